/**
 * File operations on a host, one round trip each, as sh argv on POSIX hosts and PowerShell on
 * Windows. The argv builders are pure (golden-tested); the helpers below run them.
 */
import { expectSuccess } from "../errors";
import { psQuote } from "./quote";
import type { Platform, Transport } from "./types";
import { psScriptArgv, psFileArgv } from "./windows";
import { POSIX_QEMU_PATH } from "./hostScript";

/** A QEMU tool (qemu-img, qemu-system-*) run with those directories on PATH. */
export function toolArgv(platform: Platform, argv: string[]): string[] {
  if (platform === "windows") return argv; // the PowerShell prelude adds QEMU's directory
  return ["sh", "-c", `PATH="$PATH:${POSIX_QEMU_PATH}"; exec "$@"`, "qemu-tool", ...argv];
}

export function existsArgv(platform: Platform, path: string): string[] {
  return platform === "windows"
    ? psScriptArgv(`if (Test-Path -LiteralPath ${psQuote(path)}) { exit 0 } else { exit 1 }\n`)
    : ["test", "-e", path];
}

/** Makes a directory (and its parents); on Windows one made new is private to the user (private-dir.ps1). */
export function mkdirArgv(platform: Platform, dir: string): string[] {
  return platform === "windows"
    ? psFileArgv(["private-dir.ps1"], { dir })
    : ["mkdir", "-p", "--", dir];
}

export function removeFileArgv(platform: Platform, path: string): string[] {
  return platform === "windows"
    ? psScriptArgv(`if (Test-Path -LiteralPath ${psQuote(path)}) { Remove-Item -LiteralPath ${psQuote(path)} -Force }\n`)
    : ["rm", "-f", "--", path];
}

/** Up to `bytes` bytes from the end of a file; fails when there is no file. */
export function tailArgv(platform: Platform, path: string, bytes: number): string[] {
  return platform === "windows"
    ? psFileArgv(["tail.ps1"], { path, bytes })
    : ["tail", "-c", String(bytes), path];
}

/** Up to `bytes` bytes from the start of a file (a header); fails when there is no file. */
export function headArgv(platform: Platform, path: string, bytes: number): string[] {
  return platform === "windows"
    ? psFileArgv(["head.ps1"], { path, bytes })
    : ["head", "-c", String(bytes), "--", path];
}

/** A file's size in bytes on stdout, 0 when there is none. */
export function sizeArgv(platform: Platform, path: string): string[] {
  return platform === "windows"
    ? psScriptArgv(`if (Test-Path -LiteralPath ${psQuote(path)}) { (Get-Item -LiteralPath ${psQuote(path)}).Length } else { 0 }\n`)
    : ["sh", "-c", 'wc -c < "$1" 2>/dev/null || echo 0', "size", path];
}

/** The file's sha256 in lower-case hex on stdout. */
export function sha256Argv(platform: Platform, path: string): string[] {
  return platform === "windows"
    ? psScriptArgv(`(Get-FileHash -Algorithm SHA256 -LiteralPath ${psQuote(path)}).Hash.ToLower()\n`)
    : ["sh", "-c", 'set -e; (sha256sum "$1" 2>/dev/null || shasum -a 256 "$1") | cut -d" " -f1', "sha256", path];
}

export async function pathExists(t: Transport, path: string): Promise<boolean> {
  return (await t.exec(existsArgv(t.platform, path))).exitCode === 0;
}

export async function makeDirectory(t: Transport, dir: string, what = `creating ${dir}`): Promise<void> {
  const argv = mkdirArgv(t.platform, dir);
  expectSuccess(`${t.description}: ${what}`, argv, await t.exec(argv));
}

export async function removeFile(t: Transport, path: string): Promise<void> {
  const argv = removeFileArgv(t.platform, path);
  expectSuccess(`${t.description}: removing ${path}`, argv, await t.exec(argv));
}

/** The end of a file, or "" when it cannot be read. */
export async function tailFile(t: Transport, path: string, bytes: number): Promise<string> {
  const r = await t.exec(tailArgv(t.platform, path, bytes));
  return r.exitCode === 0 ? r.stdout : "";
}

export async function fileSha256(t: Transport, path: string): Promise<string> {
  const argv = sha256Argv(t.platform, path);
  return expectSuccess(t.description, argv, await t.exec(argv)).stdout.trim();
}

/** The directory part of a host path ("/" or "C:/" at the top), for either separator. */
export function parentDir(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const parent = path.slice(0, cut);
  return parent === "" ? "/" : /^[A-Za-z]:$/.test(parent) ? `${parent}/` : parent;
}
