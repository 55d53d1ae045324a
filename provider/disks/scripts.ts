/** The Disk resource's POSIX-only scripts (clone records) and the reader of the overlay search's records. Pure: golden-tested. */
import { cloneRecordDir } from "../layout";

/** The upload move's exit status when the place was taken meanwhile (another upload of a shared image, say): see provider/platform. */
export { APPEARED_EXIT } from "../platform";

/** An image overlaysArgv looked at, with the backing file its header (or qemu-img's JSON, on Windows) names (none: not a clone). */
export interface OverlayCandidate {
  file: string;
  backing?: string;
}

/** Reads overlaysArgv's POSIX records; `unreadable` lists what could not be judged (refuse then). */
export function parseOverlayRecords(stdout: string): { candidates: OverlayCandidate[]; unreadable: string[] } {
  const candidates: OverlayCandidate[] = [];
  const unreadable: string[] = [];
  let file: string | undefined;
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const [tag, rest] = [line[0], line.slice(1)];
    if (tag === "F") {
      if (file !== undefined) unreadable.push(`${file} (no answer from qemu-img)`);
      file = rest;
    } else if (tag === "J" && file !== undefined) {
      try {
        const info = JSON.parse(rest) as Record<string, unknown>;
        const backing = info["full-backing-filename"] ?? info["backing-filename"];
        if (backing !== undefined && typeof backing !== "string") throw new Error("backing file name is not a string");
        candidates.push({ file, backing });
      } catch {
        unreadable.push(`${file} (qemu-img's JSON did not parse)`);
      }
      file = undefined;
    } else if (tag === "B" && file !== undefined) {
      candidates.push({ file, backing: rest });
      file = undefined;
    } else if (tag === "N" && file !== undefined && rest === "") {
      candidates.push({ file, backing: undefined });
      file = undefined;
    } else if (tag === "G" && file !== undefined && rest === "") {
      file = undefined; // deleted between the search and qemu-img: it uses nothing
    } else if (tag === "E" && file !== undefined) {
      unreadable.push(`${file} (${/^\d+$/.test(rest) ? `qemu-img info exited ${rest}` : rest})`);
      file = undefined;
    } else if (tag === "D") {
      if (rest !== "0") unreadable.push(`(a directory search: find exited ${rest})`);
    } else {
      unreadable.push(`(an unreadable line: ${JSON.stringify(line.slice(0, 200))})`);
      file = undefined;
    }
  }
  if (file !== undefined) unreadable.push(`${file} (no answer from qemu-img)`);
  return { candidates, unreadable };
}

/** For each name after `path` that is the same file as `path` (one inode, whatever the spelling), prints it. */
export function sameFileArgv(path: string, names: string[]): string[] {
  // -ef is not in POSIX but every sh met here has it (dash, bash, busybox ash, FreeBSD sh).
  return ["sh", "-c", '# shellcheck disable=SC3013\np=$1; shift; for b do if [ "$b" -ef "$p" ]; then printf "%s\\n" "$b"; fi; done; exit 0', "same-file", path, ...names];
}

/**
 * Records `clone` as a linked clone of `base` (beside the base, so that a clone in any working
 * directory is found when the base is to be deleted). Exit 0 also when the base's directory is not
 * writable: then this user cannot delete the base either.
 */
export function recordCloneArgv(base: string, clone: string, entry: string): string[] {
  const dir = cloneRecordDir(base);
  return ["sh", "-c", 'if mkdir -p -- "$1" 2>/dev/null; then printf "%s\\n" "$3" > "$1/$2"; else [ ! -w "$4" ]; fi', "record-clone", dir, entry, clone, base.slice(0, base.lastIndexOf("/")) || "/"];
}

/** Removes a clone's record beside its base (and the record directory when it is empty). */
export function forgetCloneArgv(base: string, entry: string): string[] {
  return ["sh", "-c", 'rm -f -- "$1/$2"; rmdir -- "$1" 2>/dev/null; exit 0', "forget-clone", cloneRecordDir(base), entry];
}

export { cloneRecordDir } from "../layout";
