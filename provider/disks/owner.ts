/**
 * Who owns a Disk's image on a shared host (see provider/vm/owner.ts for VMs). A Disk gets an
 * owner token at create; its default path is `disks/NAME.TAG.FORMAT`, so two stacks with the
 * same names never meet there, and beside the image `.FILE.owner` records its owner. An image
 * whose record is another's is refused naming that owner. A shared image (a Fleet's base) has
 * one entry per owner in `.FILE.owners/`, and is deleted only when the last one is gone.
 */
import { expectSuccess } from "../errors";
import { makeDirectory, pathExists, removeFile, type Transport } from "../transport";
import { hostOps } from "../platform";
import { describeOwner, ownedOrRefused, ownerId, ownerRecordText, parseOwnerRecord, type OwnerLabel, type OwnerRecord } from "../vm/owner";

function beside(path: string, suffix: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}${suffix}`;
}

export function diskOwnerRecord(path: string): string {
  return beside(path, ".owner");
}

export function sharedOwnersDir(path: string): string {
  return beside(path, ".owners");
}

async function textOf(t: Transport, path: string): Promise<string | undefined> {
  return await pathExists(t, path) ? (await t.readFile(path)).toString() : undefined;
}

/** The image's owner record (a non-shared image's): undefined when it has none; `record` undefined when it cannot be read. */
export async function diskOwnerOf(t: Transport, path: string): Promise<{ record?: OwnerRecord } | undefined> {
  const text = await textOf(t, diskOwnerRecord(path));
  return text === undefined ? undefined : { record: parseOwnerRecord(text) };
}

/** Refuses an image whose owner record is another's (or cannot be read); one without a record (an older release's) is the caller's. */
export async function checkDiskOwner(t: Transport, path: string, token: string | undefined, doing: string): Promise<void> {
  ownedOrRefused(await textOf(t, diskOwnerRecord(path)), token, `${t.description}: not ${doing} disk ${path}: it`, "nothing was changed");
}

/** Records this token as the image's owner (a shared image: one of its owners). */
export async function claimDisk(t: Transport, path: string, token: string, label: OwnerLabel, shared: boolean): Promise<void> {
  const text = ownerRecordText(token, label);
  if (!shared) return t.writeFile(diskOwnerRecord(path), text, { mode: 0o600 });
  if (!hostOps(t).recordsBesideImages) return; // Windows hosts: a shared image is kept while a clone or VM uses it, as before
  await makeDirectory(t, sharedOwnersDir(path));
  await t.writeFile(`${sharedOwnersDir(path)}/${ownerId(token)}`, text, { mode: 0o600 });
}

/** sh: prints the first line (the record) of each owner entry in the directory "$1". */
const PRINT_OWNERS = 'for f in "$1"/*; do [ -f "$f" ] && head -n 1 "$f"; done';

function describeOwnerLines(stdout: string): string[] {
  return stdout.split("\n").filter(Boolean).map((line) => describeOwner(parseOwnerRecord(line)));
}

/** The owners a shared image has recorded, for people. */
export async function sharedOwnersOf(t: Transport, path: string): Promise<string[]> {
  const argv = ["sh", "-c", `${PRINT_OWNERS}; exit 0`, "owners", sharedOwnersDir(path)];
  return describeOwnerLines(expectSuccess(`${t.description}: reading the owners of ${path}`, argv, await t.exec(argv)).stdout);
}

/** Forgets this token's ownership; for a shared image, returns the owners still recorded (the image stays while there are any). */
export async function releaseDisk(t: Transport, path: string, token: string | undefined, shared: boolean): Promise<string[]> {
  if (!shared) {
    if (await pathExists(t, diskOwnerRecord(path))) await removeFile(t, diskOwnerRecord(path));
    return [];
  }
  if (!hostOps(t).recordsBesideImages || token === undefined) return [];
  const dir = sharedOwnersDir(path);
  const argv = ["sh", "-c", `rm -f -- "$1/$2"; ${PRINT_OWNERS}; rmdir "$1" 2>/dev/null; exit 0`, "release", dir, ownerId(token)];
  return describeOwnerLines(expectSuccess(`${t.description}: releasing shared disk ${path}`, argv, await t.exec(argv)).stdout);
}
