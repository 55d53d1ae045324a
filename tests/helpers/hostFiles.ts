/**
 * Files where they are: a path under a test host's working directory is on that host, read over
 * SSH (an isolated test host's files are not on this machine); any other path is this machine's.
 */
import { imageCacheDir } from "../../provider/layout";
import { LocalTransport, sshTransport, type Transport } from "../../provider/transport";
import { sshOptionsFor, testbed } from "../testbed/testbed";

/** The transport to the machine that holds `file`. */
export function transportForPath(file: string): Transport {
  const host = testbed().hosts.find((h) => file === h.workDir || file.startsWith(`${h.workDir}/`));
  return host ? sshTransport(sshOptionsFor(host)) : new LocalTransport();
}

async function sh(file: string, script: string, ...args: string[]): Promise<{ stdout: string; exitCode: number | null }> {
  return transportForPath(file).exec(["sh", "-c", script, "sh", ...args]);
}

/** The entries of a directory; [] when it is not there. */
export async function listDir(dir: string): Promise<string[]> {
  const r = await sh(dir, '[ -d "$1" ] || exit 0; ls -A1 -- "$1"', dir);
  return r.stdout.split("\n").filter(Boolean);
}

/** The entries of a working directory's image cache but their locks (which stay, as a VM's lock does), sorted. */
export async function imageCacheFiles(workDir: string): Promise<string[]> {
  return (await listDir(imageCacheDir(workDir))).filter((f) => !f.endsWith(".lock")).sort();
}

/** Every file under `dir` (relative paths are not made: full paths), sorted; [] without the directory. */
export async function filesUnder(dir: string, exceptPath?: string): Promise<string[]> {
  const r = await sh(dir, '[ -d "$1" ] || exit 0; if [ -n "$2" ]; then find "$1" -type f -not -path "$2" | sort; else find "$1" -type f | sort; fi', dir, exceptPath ?? "");
  return r.stdout.split("\n").filter(Boolean);
}

/** The inode number of a file (two paths with one inode are one file; a new file has a new one). */
export async function inodeOf(file: string): Promise<number> {
  const r = await sh(file, 'stat -c %i -- "$1"', file);
  if (r.exitCode !== 0) throw new Error(`no file ${file}`);
  return Number(r.stdout.trim());
}
