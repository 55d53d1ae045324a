/**
 * Is anything under a directory readable by another Unix user? Two answers: the mode bits of every
 * entry (no group or other permission at all), and the effective one, each path tried as the test
 * hosts' plain user (pqemu-user). The test hosts share this machine's file system.
 */
import { execFileSync } from "child_process";
import { lstatSync, readdirSync } from "fs";
import * as path from "path";

/** Every entry under `dir` (not `dir` itself), depth first. */
function entriesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return lstatSync(p).isDirectory() ? [p, ...entriesUnder(p)] : [p];
  });
}

/** Entries whose mode gives the group or others any permission, as "0644 path". */
export function openModes(dir: string): string[] {
  return entriesUnder(dir).map((p) => [p, lstatSync(p)] as const)
    .filter(([, st]) => !st.isSymbolicLink() && (st.mode & 0o077) !== 0)
    .map(([p, st]) => `${(st.mode & 0o777).toString(8).padStart(4, "0")} ${p}`);
}

/** Entries that `user` can read (files) or list (directories). */
export function readableAs(user: string, dir: string): string[] {
  const paths = entriesUnder(dir);
  if (paths.length === 0) return [];
  const script = 'for f in "$@"; do if [ -r "$f" ]; then printf "%s\\n" "$f"; fi; done';
  return execFileSync("setpriv", ["--reuid", user, "--regid", user, "--clear-groups", "sh", "-c", script, "sh", ...paths])
    .toString().split("\n").filter(Boolean);
}

/** How many entries were looked at: a check of an empty tree proves nothing. */
export function countUnder(dir: string): number {
  return entriesUnder(dir).length;
}
