import { Readable } from "stream";
/**
 * How commands reach a Windows host: Windows OpenSSH hands the command line to cmd.exe (its
 * default) or PowerShell, and the two quote differently, so every command travels as
 * `powershell -EncodedCommand <base64 of UTF-16LE>`, which neither can reinterpret.
 */
import { InvalidArgumentError } from "../errors";
import { psDecodeArgv, psEncodedArgv, psEncodedCommand, psJoin } from "./quote";
import { hostScriptText, psScriptText, psVariables, type PsValue } from "./hostScript";

/**
 * Before every script: stop at the first error (exit 1, the message on stderr); no progress
 * records (PowerShell would print them on stderr as CLIXML); QEMU's installer directory on
 * PATH, since the installer does not add it.
 */
export const WINDOWS_PRELUDE = hostScriptText("prelude.ps1");

/** A PowerShell script (prelude included) as an argv that any transport can run on Windows. */
export function psScriptArgv(script: string): string[] {
  return psEncodedArgv(WINDOWS_PRELUDE + script);
}

/** Host script files (provider/scripts/*.ps1) run as one script with `values` set as variables. */
export function psFileArgv(files: string[], values: Record<string, PsValue> = {}): string[] {
  return psScriptArgv(psScriptText(files, values));
}

/** The script inside an argv made by psScriptArgv (or the loader of windowsInvocation), for tests and messages. */
export const decodePsScript = psDecodeArgv;

/**
 * What runs a Windows argv: a short command line and the bytes that go first on its stdin. A
 * script argv runs as it is; any other argv as a PowerShell call of the program with
 * verbatim-quoted arguments, ending with the program's own exit code (PowerShell would
 * otherwise say 0 or 1). The script itself travels on stdin, read by a fixed loader of a few
 * hundred characters: cmd.exe (Windows OpenSSH's default shell) refuses command lines over 8191
 * characters and CreateProcess over 32767, while a VM start script alone encodes to ~15 000 and
 * an observe of 64 VMs to ~78 000. Whatever the caller sends on stdin follows the script.
 */
export function windowsInvocation(argv: string[]): { commandLine: string; stdinPrefix: Buffer } {
  const script = decodePsScript(argv) ?? WINDOWS_PRELUDE + `${psJoin(argv)}\nexit $LASTEXITCODE\n`;
  const bytes = Buffer.from(script, "utf8");
  return { commandLine: psEncodedCommand(scriptLoader(bytes.length)), stdinPrefix: bytes };
}

/** Reads exactly `length` bytes of stdin (no more: the rest is the script's input) and runs them as a script. */
export function scriptLoader(length: number): string {
  return psVariables("loader.ps1", { n: length }) + hostScriptText("loader.ps1");
}

/**
 * One argument of a Windows command line as programs built with the Microsoft C runtime (QEMU
 * among them) split it (CommandLineToArgvW rules): quotes when needed, backslashes doubled only
 * before a quote. For Win32_Process.Create, which takes one command-line string.
 */
export function winQuoteArg(arg: string): string {
  if (arg.includes("\0")) throw new InvalidArgumentError("argv", "an argument contains a NUL byte");
  if (arg !== "" && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      backslashes++;
      continue;
    }
    out += "\\".repeat(ch === '"' ? backslashes * 2 + 1 : backslashes) + ch;
    backslashes = 0;
  }
  return out + "\\".repeat(backslashes * 2) + '"';
}

export function winJoin(argv: string[]): string {
  if (argv.length === 0) throw new InvalidArgumentError("argv", "is empty");
  return argv.map(winQuoteArg).join(" ");
}

/** The loader's script bytes, then the caller's stdin (bytes, or a stream that is not read into memory). */
export function withPrefix(prefix: Buffer, stdin: string | Buffer | Readable | undefined): Buffer | Readable {
  if (!(stdin instanceof Readable)) return Buffer.concat([prefix, Buffer.from(stdin ?? "")]);
  return Readable.from((async function* () { yield prefix; yield* stdin; })());
}
