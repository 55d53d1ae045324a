/** File writes and reads as argv (sh on POSIX hosts, PowerShell on Windows), shared by every transport that runs commands remotely. */
import { shScriptArgv } from "./hostScript";
import { psFileArgv } from "./windows";

/**
 * Writes stdin to a temp name beside `path`, checks the byte count, then renames
 * (atomic-write.sh). An upload cut short leaves no file at `path` and removes its temp file.
 */
export function atomicWriteArgv(path: string, expectedBytes: number, mode: number, tempSuffix: string): string[] {
  return shScriptArgv(["atomic-write.sh"], [path, String(expectedBytes), mode.toString(8), tempSuffix]);
}

export function readFileArgv(path: string): string[] {
  return ["cat", "--", path];
}

/** The Windows twin of atomicWriteArgv (write-file.ps1). Windows has no file modes: the file takes the ACL of its directory. */
export function atomicWriteArgvWindows(path: string, expectedBytes: number, tempSuffix: string): string[] {
  return psFileArgv(["write-file.ps1"], { path, bytes: expectedBytes, suffix: tempSuffix });
}

/** A file's raw bytes on stdout (read-file.ps1). */
export function readFileArgvWindows(path: string): string[] {
  return psFileArgv(["read-file.ps1"], { path });
}
