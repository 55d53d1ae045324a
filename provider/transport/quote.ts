/**
 * Quoting at the edge: argv arrays everywhere inside the package, one string only where a
 * command crosses SSH (the remote login shell parses it). POSIX sh and PowerShell.
 */
import { InvalidArgumentError } from "../errors";

// Words made only of these need no quotes in sh. "=" is left out: a first word with "=" is an assignment.
const SH_SAFE = /^[A-Za-z0-9_\-+.,/:@%^]+$/;

function rejectNul(arg: string): void {
  // A NUL cannot be passed in an argv on any OS; refuse instead of truncating silently.
  if (arg.includes("\0")) throw new InvalidArgumentError("argv", "an argument contains a NUL byte");
}

/** One argument for POSIX sh: as is when safe, else in single quotes with ' written as '\''. */
export function shQuote(arg: string): string {
  rejectNul(arg);
  if (SH_SAFE.test(arg)) return arg;
  return "'" + arg.replace(/'/g, "'\\''") + "'";
}

/** An argv as one POSIX sh command line. */
export function shJoin(argv: string[]): string {
  if (argv.length === 0) throw new InvalidArgumentError("argv", "is empty");
  return argv.map(shQuote).join(" ");
}

// PowerShell treats the typographic single quotes as quotes too; each is escaped by doubling.
const PS_SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;

/** One argument as a PowerShell single-quoted (verbatim) string. */
export function psQuote(arg: string): string {
  rejectNul(arg);
  return "'" + arg.replace(PS_SINGLE_QUOTES, (q) => q + q) + "'";
}

/** An argv as a PowerShell call: & 'program' 'arg1' ... */
export function psJoin(argv: string[]): string {
  if (argv.length === 0) throw new InvalidArgumentError("argv", "is empty");
  return "& " + argv.map(psQuote).join(" ");
}

/**
 * A PowerShell script as a command line that no shell (cmd or PowerShell, the two defaults of
 * Windows OpenSSH) can reinterpret: the script travels as base64 of UTF-16LE.
 */
export function psEncodedCommand(script: string): string {
  return psEncodedArgv(script).join(" ");
}

const PS_ENCODED = ["powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand"];

/** The same as an argv: its words need no quoting (base64 has no space or quote). */
export function psEncodedArgv(script: string): string[] {
  return [...PS_ENCODED, Buffer.from(script, "utf16le").toString("base64")];
}

/** The script inside an argv made by psEncodedArgv; undefined for any other argv. */
export function psDecodeArgv(argv: string[]): string | undefined {
  if (argv.length !== PS_ENCODED.length + 1 || PS_ENCODED.some((f, i) => argv[i] !== f)) return undefined;
  return Buffer.from(argv[PS_ENCODED.length], "base64").toString("utf16le");
}
