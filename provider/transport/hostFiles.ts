/**
 * File operations on a host, one round trip each, through the host's platform's argv
 * (platformIo.ts): the helpers every layer uses.
 */
import { expectSuccess } from "../errors";
import type { Transport } from "./types";
import { platformIo } from "./platformIo";

export async function pathExists(t: Transport, path: string): Promise<boolean> {
  return (await t.exec(platformIo(t.platform).exists(path))).exitCode === 0;
}

export async function makeDirectory(t: Transport, dir: string, what = `creating ${dir}`): Promise<void> {
  const argv = platformIo(t.platform).mkdir(dir);
  expectSuccess(`${t.description}: ${what}`, argv, await t.exec(argv));
}

export async function removeFile(t: Transport, path: string): Promise<void> {
  const argv = platformIo(t.platform).remove(path);
  expectSuccess(`${t.description}: removing ${path}`, argv, await t.exec(argv));
}

/** The end of a file, or "" when it cannot be read. */
export async function tailFile(t: Transport, path: string, bytes: number): Promise<string> {
  const r = await t.exec(platformIo(t.platform).tail(path, bytes));
  return r.exitCode === 0 ? r.stdout : "";
}

export async function fileSha256(t: Transport, path: string): Promise<string> {
  const argv = platformIo(t.platform).sha256(path);
  return expectSuccess(t.description, argv, await t.exec(argv)).stdout.trim();
}

/** A QEMU tool's argv on this transport's host (QEMU's directories on PATH). */
export function toolOn(t: Transport, argv: string[]): string[] {
  return platformIo(t.platform).tool(argv);
}

/** The directory part of a host path ("/" or "C:/" at the top), for either separator. */
export function parentDir(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const parent = path.slice(0, cut);
  return parent === "" ? "/" : /^[A-Za-z]:$/.test(parent) ? `${parent}/` : parent;
}
