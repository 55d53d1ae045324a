/**
 * The host scripts: files in provider/scripts (shipped with the package), read once per process
 * and sent as they are. What differs per call travels as data: sh gets positional parameters and
 * quoted variables; PowerShell (an encoded command takes no arguments) gets variables set before
 * the files' text. The exit codes both sides read and the directories where QEMU may live are
 * named here once and given to every script whose text uses them.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { psQuote, shQuote } from "./quote";

/** The codes a host script exits with when the caller must tell its failure apart (`$EXIT_NAME` in a script). */
export const EXIT = {
  /** Windows: the loader read fewer bytes of the script than announced. */
  SCRIPT_CUT_SHORT: 64,
  /** A state directory or a file in it could not be made. */
  CANNOT_WRITE: 70,
  /** QEMU did not start; its messages are on stderr. */
  QEMU_FAILED: 71,
  /** The VM's QEMU still runs, so its files stay. */
  STILL_RUNNING: 72,
  /** The process to adopt ended, or its PID now names another process. */
  NOT_THE_CHECKED_PROCESS: 73,
  /** Another operation held the VM's lock for the whole wait. */
  LOCK_TIMEOUT: 75,
  /** A VM's start would take the host past its memory (capacity-reserve.sh). */
  NO_CAPACITY: 76,
  /** A fetched image's digest is not the declared one (image-fetch.sh prints got=). */
  DIGEST_MISMATCH: 77,
  /** A download was cut off; what arrived stays beside the cache entry and the next fetch resumes it. */
  DOWNLOAD_CUT: 78,
  /** A download failed for good (an HTTP error, a refused connection, a certificate): nothing is kept. */
  DOWNLOAD_FAILED: 79,
  /** The host lacks a tool the fetch needs (curl or wget, a decompressor); its name is on stderr. */
  MISSING_TOOL: 80,
  /** The accelerator probe's guest hung and was ended (124, as timeout(1) says). */
  PROBE_HUNG: 124,
} as const;

/**
 * QEMU's usual homes beyond the login PATH: an SSH session on macOS gets only /usr/bin:/bin:
 * /usr/sbin:/sbin, while Homebrew installs to /opt/homebrew/bin (Apple Silicon) or
 * /usr/local/bin (Intel) and MacPorts to /opt/local/bin. In a script: $QEMU_PATH, $QEMU_DIRS.
 */
export const POSIX_QEMU_DIRS = ["/usr/local/bin", "/opt/homebrew/bin", "/opt/local/bin"];
export const POSIX_QEMU_PATH = POSIX_QEMU_DIRS.join(":");

/** What every script may name; each is set only in the scripts whose text names it. */
const WELL_KNOWN: Record<string, string | number> = {
  ...Object.fromEntries(Object.entries(EXIT).map(([k, v]) => [`EXIT_${k}`, v])),
  QEMU_PATH: POSIX_QEMU_PATH,
  QEMU_DIRS: POSIX_QEMU_DIRS.join(" "),
};

/** Built, this module is bin/provider/transport/hostScript.js: the package root is three up. */
const SCRIPTS_DIR = path.join(__dirname, "../../../provider/scripts");

const texts = new Map<string, string>();

/** A script file's text. */
export function hostScriptText(file: string): string {
  let text = texts.get(file);
  if (text === undefined) {
    if (!/^[a-z0-9-]+\.(sh|ps1)$/.test(file)) throw new Error(`not a host script name: ${file}`);
    text = readFileSync(path.join(SCRIPTS_DIR, file), "utf8");
    texts.set(file, text);
  }
  return text;
}

export function hostScriptsDir(): string {
  return SCRIPTS_DIR;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A file as sh scripts send it: its leading `# shellcheck` directives apart (they go first in the whole script), and the rest. */
export function shScriptParts(file: string): { directives: string[]; body: string } {
  const lines = hostScriptText(file).split("\n");
  let i = 0;
  while (i < lines.length && lines[i].startsWith("# shellcheck ")) i++;
  return { directives: lines.slice(0, i), body: lines.slice(i).join("\n") };
}

interface Prepared { head: string; body: string; wellKnown: Array<[string, string | number]> }

/** What a list of files sends every time, worked out once per process (scripts run on every refresh). */
const prepared = new Map<string, Prepared>();

function prepare(files: string[], kind: "sh" | "ps1"): Prepared {
  const key = `${kind}:${files.join(",")}`;
  let p = prepared.get(key);
  if (!p) {
    const parts = files.map((f) => (kind === "sh" ? shScriptParts(f) : { directives: [], body: hostScriptText(f) }));
    const body = parts.map((x) => x.body).join("");
    const head = parts.flatMap((x) => x.directives).map((d) => `${d}\n`).join("");
    p = { head, body, wellKnown: wellKnownIn(body) };
    prepared.set(key, p);
  }
  return p;
}

/** The well-known names a script's text uses. */
function wellKnownIn(text: string): Array<[string, string | number]> {
  return Object.entries(WELL_KNOWN).filter(([k]) => new RegExp(`\\$\\{?${k}\\b`).test(text));
}

/** The given values (names checked), then the well-known ones. */
function variables<V>(values: Record<string, V>, wellKnown: Array<[string, string | number]>): Array<[string, V | string | number]> {
  for (const k of Object.keys(values)) if (!NAME.test(k)) throw new Error(`not a script variable name: ${k}`);
  return [...Object.entries(values), ...wellKnown];
}

/**
 * `sh -c` running the files as one script: the leading `# shellcheck` directives of each file
 * first (so that they hold for the whole script), then `values` and the well-known names the
 * text uses as variables, then the files. `args` are its positional parameters.
 */
export function shScriptArgv(files: string[], args: string[] = [], values: Record<string, string | number> = {}): string[] {
  const { head, body, wellKnown } = prepare(files, "sh");
  // A value is data, single-quoted on purpose: what looks like an expansion in it stays text.
  const assignments = variables(values, wellKnown).map(([k, v]) => {
    const quoted = shQuote(String(v));
    return `${/^'.*\$/s.test(quoted) ? "# shellcheck disable=SC2016\n" : ""}${k}=${quoted}\n`;
  }).join("");
  return ["sh", "-c", head + assignments + body, `pulumi-qemu-${files[files.length - 1].replace(/\.sh$/, "")}`, ...args];
}

/** A value as a PowerShell literal: verbatim strings, numbers, arrays @(...) and hashtables @{...}. */
export type PsValue = string | number | boolean | PsValue[] | { [key: string]: PsValue };

export function psLiteral(v: PsValue): string {
  if (typeof v === "string") return psQuote(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "$true" : "$false";
  if (Array.isArray(v)) return `@(${v.map(psLiteral).join(", ")})`;
  return `@{ ${Object.entries(v).map(([k, x]) => {
    if (!NAME.test(k)) throw new Error(`not a hashtable key: ${k}`);
    return `${k} = ${psLiteral(x)}`;
  }).join("; ")} }`;
}

/**
 * The text of a PowerShell run of the files: a first line `# pulumi-qemu <last file>` that names
 * the script (in logs and recordings), then `values` and the well-known names it uses as
 * variables, then the files.
 */
export function psScriptText(files: string[], values: Record<string, PsValue> = {}): string {
  const { body, wellKnown } = prepare(files, "ps1");
  return `# pulumi-qemu ${files[files.length - 1].replace(/\.ps1$/, "")}\n${psAssignments(values, wellKnown)}${body}`;
}

/** The PowerShell lines that set `values` and the well-known names the file uses (the loader's). */
export function psVariables(file: string, values: Record<string, PsValue>): string {
  return psAssignments(values, prepare([file], "ps1").wellKnown);
}

function psAssignments(values: Record<string, PsValue>, wellKnown: Array<[string, string | number]>): string {
  return variables(values, wellKnown).map(([k, v]) => `$${k} = ${psLiteral(v)}\n`).join("");
}
