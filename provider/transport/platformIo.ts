/**
 * What differs between a POSIX host (sh) and a Windows host (PowerShell) at the transport's
 * level, chosen here once by the transport's platform: how a command travels and the file
 * operations of one round trip each. The argv builders are pure (golden-tested). Above the
 * transport, provider/platform chooses the rest the same way.
 */
import { shScriptArgv, POSIX_QEMU_PATH } from "./hostScript";
import { psQuote, shJoin } from "./quote";
import type { Platform } from "./types";
import { psFileArgv, psScriptArgv, windowsInvocation } from "./windows";

/** The machine this process runs on: Windows runs scripts through PowerShell, every other OS through sh. */
export const LOCAL_PLATFORM: Platform = process.platform === "win32" ? "windows" : "posix";

export interface PlatformIo {
  /**
   * What an SSH session runs for argv: its command line, the bytes that go first on its stdin,
   * and whether the command first prints its PID (so that a timed-out program can be killed).
   */
  sshCommand(argv: string[], withTimeout: boolean): { command: string; stdinPrefix?: Buffer; pidFirst: boolean };
  /** What a local process runs for argv, and the bytes that go first on its stdin. */
  localCommand(argv: string[]): { argv: string[]; stdinPrefix?: Buffer };
  /** Whether a spawned process takes umask 077 (Windows has no file modes). */
  privateUmask: boolean;
  /** Writes stdin to a temp name beside `path`, checks the byte count, then renames it into place. */
  atomicWrite(path: string, expectedBytes: number, mode: number, tempSuffix: string): string[];
  /** A file's raw bytes on stdout. */
  readFile(path: string): string[];
  /** A QEMU tool (qemu-img, qemu-system-*) run with QEMU's directories on PATH. */
  tool(argv: string[]): string[];
  exists(path: string): string[];
  /** Makes a directory and its parents (on Windows one made new is private to the user). */
  mkdir(dir: string): string[];
  remove(path: string): string[];
  /** Up to `bytes` bytes from the end of a file; fails when there is no file. */
  tail(path: string, bytes: number): string[];
  /** Up to `bytes` bytes from the start of a file (a header); fails when there is no file. */
  head(path: string, bytes: number): string[];
  /** A file's size in bytes on stdout, 0 when there is none. */
  size(path: string): string[];
  /** The file's sha256 in lower-case hex on stdout. */
  sha256(path: string): string[];
}

const POSIX: PlatformIo = {
  // `exec` makes the program replace the login shell, so its exit status and signal reach us
  // unchanged; umask 077 makes what it creates private to the SSH user from the first byte.
  sshCommand: (argv, withTimeout) => ({ command: (withTimeout ? "echo $$; " : "") + "umask 077; exec " + shJoin(argv), pidFirst: withTimeout }),
  localCommand: (argv) => ({ argv }),
  privateUmask: true,
  atomicWrite: (path, expectedBytes, mode, tempSuffix) => shScriptArgv(["atomic-write.sh"], [path, String(expectedBytes), mode.toString(8), tempSuffix]),
  readFile: (path) => ["cat", "--", path],
  tool: (argv) => ["sh", "-c", `PATH="$PATH:${POSIX_QEMU_PATH}"; exec "$@"`, "qemu-tool", ...argv],
  exists: (path) => ["test", "-e", path],
  mkdir: (dir) => ["mkdir", "-p", "--", dir],
  remove: (path) => ["rm", "-f", "--", path],
  tail: (path, bytes) => ["tail", "-c", String(bytes), path],
  head: (path, bytes) => ["head", "-c", String(bytes), "--", path],
  size: (path) => ["sh", "-c", 'wc -c < "$1" 2>/dev/null || echo 0', "size", path],
  sha256: (path) => ["sh", "-c", 'set -e; (sha256sum "$1" 2>/dev/null || shasum -a 256 "$1") | cut -d" " -f1', "sha256", path],
};

const WINDOWS: PlatformIo = {
  // A Windows host has no `exec` and no signals: there a timeout only closes the session. The
  // script travels on stdin behind a short loader (cmd.exe's 8191-character command line).
  sshCommand: (argv) => {
    const { commandLine, stdinPrefix } = windowsInvocation(argv);
    return { command: commandLine, stdinPrefix, pidFirst: false };
  },
  localCommand: (argv) => {
    const { commandLine, stdinPrefix } = windowsInvocation(argv);
    return { argv: commandLine.split(" "), stdinPrefix };
  },
  privateUmask: false,
  // Windows has no file modes: the file takes the ACL of its directory.
  atomicWrite: (path, expectedBytes, _mode, tempSuffix) => psFileArgv(["write-file.ps1"], { path, bytes: expectedBytes, suffix: tempSuffix }),
  readFile: (path) => psFileArgv(["read-file.ps1"], { path }),
  tool: (argv) => argv, // the PowerShell prelude adds QEMU's directory
  exists: (path) => psScriptArgv(`if (Test-Path -LiteralPath ${psQuote(path)}) { exit 0 } else { exit 1 }\n`),
  mkdir: (dir) => psFileArgv(["private-dir.ps1"], { dir }),
  remove: (path) => psScriptArgv(`if (Test-Path -LiteralPath ${psQuote(path)}) { Remove-Item -LiteralPath ${psQuote(path)} -Force }\n`),
  tail: (path, bytes) => psFileArgv(["tail.ps1"], { path, bytes }),
  head: (path, bytes) => psFileArgv(["head.ps1"], { path, bytes }),
  size: (path) => psScriptArgv(`if (Test-Path -LiteralPath ${psQuote(path)}) { (Get-Item -LiteralPath ${psQuote(path)}).Length } else { 0 }\n`),
  sha256: (path) => psScriptArgv(`(Get-FileHash -Algorithm SHA256 -LiteralPath ${psQuote(path)}).Hash.ToLower()\n`),
};

const BY_PLATFORM: Record<Platform, PlatformIo> = { posix: POSIX, windows: WINDOWS };

export function platformIo(platform: Platform): PlatformIo {
  return BY_PLATFORM[platform];
}
