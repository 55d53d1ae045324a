/**
 * Is anything under a directory readable by another Unix user? Two answers: the mode bits of every
 * entry (no group or other permission at all), and the effective one, each path tried as the test
 * hosts' plain user (pqemu-user). Asked on the machine that holds the directory (hostFiles.ts).
 */
import { transportForPath } from "./hostFiles";

async function sh(dir: string, script: string, ...args: string[]): Promise<string[]> {
  const r = await transportForPath(dir).exec(["sh", "-c", script, "sh", ...args]);
  if (r.exitCode !== 0) throw new Error(`looking under ${dir}: ${r.stderr}`);
  return r.stdout.split("\n").filter(Boolean);
}

/** Entries whose mode gives the group or others any permission, as "0644 path". */
export async function openModes(dir: string): Promise<string[]> {
  return (await sh(dir, 'find "$1" -mindepth 1 ! -type l -perm /077 -exec stat -c "%a %n" {} +', dir)).map((l) => {
    const [mode, ...rest] = l.split(" ");
    return `${mode.padStart(4, "0")} ${rest.join(" ")}`;
  });
}

/** Entries that `user` can read (files) or list (directories). */
export async function readableAs(user: string, dir: string): Promise<string[]> {
  return sh(dir, 'u=$1; shift; find "$1" -mindepth 1 -exec setpriv --reuid "$u" --regid "$u" --clear-groups sh -c \'for f do if [ -r "$f" ]; then printf "%s\\n" "$f"; fi; done\' sh {} +', user, dir);
}

/** How many entries were looked at: a check of an empty tree proves nothing. */
export async function countUnder(dir: string): Promise<number> {
  return (await sh(dir, 'find "$1" -mindepth 1', dir)).length;
}
