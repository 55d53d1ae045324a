/**
 * How commands reach a Windows host: Windows OpenSSH hands the command line to cmd.exe (its
 * default) or PowerShell, and the two quote differently, so every command travels as
 * `powershell -EncodedCommand <base64 of UTF-16LE>`, which neither can reinterpret.
 */
import { InvalidArgumentError } from "../errors";
import { psJoin } from "./quote";

/**
 * Before every script: stop at the first error (exit 1, the message on stderr); no progress
 * records (PowerShell would print them on stderr as CLIXML); QEMU's installer directory on
 * PATH, since the installer does not add it.
 */
export const WINDOWS_PRELUDE = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  "$env:Path = $env:Path + ';' + $env:ProgramFiles + '\\qemu'",
  "",
].join("\n");

const ENCODED_FLAGS = ["powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand"];

/** A PowerShell script (prelude included) as an argv that any transport can run on Windows. */
export function psScriptArgv(script: string): string[] {
  return [...ENCODED_FLAGS, Buffer.from(WINDOWS_PRELUDE + script, "utf16le").toString("base64")];
}

/** The script inside an argv made by psScriptArgv or windowsCommandLine (for tests and messages). */
export function decodePsScript(argv: string[]): string | undefined {
  if (argv.length !== 5 || ENCODED_FLAGS.some((f, i) => argv[i] !== f)) return undefined;
  return Buffer.from(argv[4], "base64").toString("utf16le");
}

/**
 * The command line sent to a Windows sshd: a script argv as it is (base64 needs no quoting in
 * either shell); any other argv runs as a PowerShell call of the program with verbatim-quoted
 * arguments, ending with the program's own exit code (PowerShell would otherwise say 0 or 1).
 */
export function windowsCommandLine(argv: string[]): string {
  const script = decodePsScript(argv) !== undefined ? undefined : `${psJoin(argv)}\nexit $LASTEXITCODE\n`;
  return (script === undefined ? argv : psScriptArgv(script)).join(" ");
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
