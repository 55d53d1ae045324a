/** The Disk resource's host scripts for POSIX sh and Windows PowerShell. Pure: golden-tested. */
import { type Platform } from "../transport";
import { hostScriptText, shScriptArgv } from "../transport/hostScript";
import { psFileArgv } from "../transport/windows";

/** moveIfAbsentArgv's exit status when the place was taken meanwhile (another upload of a shared image, say). */
export const APPEARED_EXIT = 3;

/**
 * Puts an uploaded temp file in its place unless something is there (then the temp goes, exit
 * APPEARED_EXIT). POSIX: a hard link, which never replaces a file (a test then mv would, when two
 * uploads end at once); mv where the file system has no hard links.
 */
export function moveIfAbsentArgv(platform: Platform, temp: string, path: string): string[] {
  if (platform === "windows") {
    return psFileArgv(["disk-move-if-absent.ps1"], { temp, path });
  }
  return ["sh", "-c", 'if ln -- "$1" "$2" 2>/dev/null || { [ ! -e "$2" ] && mv -- "$1" "$2"; }; then rm -f -- "$1"; exit 0; fi; rm -f -- "$1"; ' +
    `if [ -e "$2" ]; then echo "$2 appeared during the upload" >&2; exit ${APPEARED_EXIT}; fi; echo "cannot move the upload to $2" >&2; exit 1`, "upload", temp, path];
}

/** Removes an upload's temp file and the writer's own temp beside it (`<temp>.tmp-*`), left when a timeout ended it. */
export function removeUploadArgv(platform: Platform, temp: string): string[] {
  if (platform === "windows") {
    return psFileArgv(["disk-remove-upload.ps1"], { temp });
  }
  return ["sh", "-c", 'rm -f -- "$1" "$1".tmp-*', "upload-cleanup", temp];
}

/**
 * For every clone recorded beside `path` (POSIX: see cloneRecordDir; in any directory) and every
 * qcow2 image under `dirs`, a record for parseOverlayRecords (Windows writes the same records): `F<path>`, then `J<qemu-img's JSON on one line>`,
 * `E<exit status>`, or `G` when the file was gone by then (deleted meanwhile: no clone); then
 * `D<find's exit status>` per directory. The caller parses the JSON
 * (not a grep) and refuses on any error or record it cannot read.
 */
export function overlaysArgv(platform: Platform, dirs: string[], path: string): string[] {
  if (platform === "windows") {
    return psFileArgv(["disk-overlays.ps1"], { path, dirs });
  }
  return shScriptArgv(["disk-overlays.sh"], [path, cloneRecordDir(path), ...dirs], { EACH: hostScriptText("disk-overlay-info.sh") });
}

/** An image overlaysArgv looked at, with the backing file qemu-img's JSON names (none: not a clone). */
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
    } else if (tag === "G" && file !== undefined && rest === "") {
      file = undefined; // deleted between the search and qemu-img: it uses nothing
    } else if (tag === "E" && file !== undefined) {
      unreadable.push(`${file} (qemu-img info exited ${rest})`);
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

/** Where the linked clones of a base image are recorded: a directory beside it, one file per clone. */
export function cloneRecordDir(base: string): string {
  const slash = base.lastIndexOf("/");
  return `${base.slice(0, slash + 1)}.${base.slice(slash + 1)}.clones`;
}
