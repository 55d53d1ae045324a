/**
 * Disk images on a host, whoever declares them (a Disk, an Image, a Fleet's base, gc): qemu-img,
 * uploads, who uses an image (running VMs, VMs that declare it, linked clones) and the records
 * that keep a base from being deleted under its clones. The Disk resource (resources/disk.ts)
 * is the Pulumi-facing CRUD over these.
 */
import { createHash, randomBytes } from "crypto";
import { vmHandle, type VmHandle } from "../vm/handle";
import { liveImages } from "../vm/snapshots";
import { withVmQmp } from "../vm/qmpEndpoint";
import { QemuError, expectSuccess } from "../errors";
import { meteredLocalFile } from "../localFile";
import { infoArgv, parseInfo, type ImageInfo } from "../qemu/img";
import { fileSha256, parentDir, pathExists, removeFile, toolOn, type Transport } from "../transport";
import { APPEARED_EXIT, cloneRecordDir, forgetCloneArgv, parseOverlayRecords, recordCloneArgv, sameFileArgv } from "./scripts";
import { hostOps } from "../platform";
import { stateDirName, vmLayout, vmStateRoot } from "../layout";
import { listStartedSpecs, observe } from "../vm/observe";
import type { VmSpec } from "../vm/spec";
import { mib, progress } from "../progress";
import { diskOwnerOf, releaseDisk } from "./owner";
import { describeOwner, type OwnerLabel } from "../vm/owner";

/** What removing an image needs to know of it. */
export interface ImageRecord {
  path: string;
  shared?: boolean;
  ownerToken?: string;
  backingImage?: string;
  backingFile?: string;
}

/** Runs a qemu-img argv with QEMU's usual directories on PATH (see toolOn). */
export async function qemuImg(t: Transport, argv: string[], what?: string): Promise<string> {
  const tool = toolOn(t, argv);
  return expectSuccess(what ? `${t.description}: ${what}` : t.description, tool, await t.exec(tool), argv).stdout;
}

export async function info(t: Transport, path: string): Promise<ImageInfo | undefined> {
  const argv = toolOn(t, infoArgv(path));
  const r = await t.exec(argv);
  if (r.exitCode !== 0 && /No such file|Could not open|cannot find/i.test(r.stderr) && !await pathExists(t, path)) return undefined;
  return parseInfo(expectSuccess(t.description, argv, r, infoArgv(path)).stdout);
}

/** Default bound of one upload: an hour (about 1 MiB/s for a 3.5 GiB image). */
export const UPLOAD_TIMEOUT_MS = 3600000;

/**
 * Streams a local file to a temp name beside `path` (constant memory, progress every few
 * seconds), checks its sha256 on the host, then renames it into place; a failure leaves nothing.
 * Returns false, with nothing left of the upload, when `joinable` and `path` appeared meanwhile.
 */
export async function upload(t: Transport, source: string, path: string, timeoutMs = UPLOAD_TIMEOUT_MS, joinable = false): Promise<boolean> {
  const temp = `${path}.upload-${randomBytes(4).toString("hex")}`;
  const t0 = Date.now();
  let lastReport = t0;
  const file = meteredLocalFile(source, (sent, size) => {
    if (Date.now() - lastReport < 5000) return;
    lastReport = Date.now();
    progress(`Disk ${path}: uploaded ${mib(sent)} of ${mib(size)} MiB (${Math.round((100 * sent) / size)}%)`);
  });
  progress(`Disk ${path}: uploading ${mib(file.size)} MiB to ${t.description}`);
  try {
    await t.writeFile(temp, file, { mode: 0o600, timeoutMs });
    const sent = file.sha256();
    const got = await fileSha256(t, temp);
    if (got !== sent) throw new QemuError("COMMAND_FAILED", `${t.description}: uploading ${source} to ${path}: checksum mismatch: got ${got}, sent ${sent}`);
    const move = hostOps(t).moveIfAbsent(temp, path);
    const moved = await t.exec(move);
    if (joinable && moved.exitCode === APPEARED_EXIT) return false;
    expectSuccess(`${t.description}: uploading ${source} to ${path}`, move, moved);
  } catch (e) {
    await t.exec(hostOps(t).removeUpload(temp)).catch(() => undefined);
    throw e;
  }
  progress(`Disk ${path}: uploaded and checksum verified in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

/** The state directories and started specs of this working directory's VMs that name the image. */
async function declaringSpecs(t: Transport, workDir: string, path: string): Promise<Array<{ dir: string; spec: VmSpec }>> {
  return (await listStartedSpecs(t, vmStateRoot(workDir))).filter(({ spec }) => spec.disks.some((d) => d.path === path));
}

/** VMs of this working directory whose started spec names the image. */
export async function usersOf(t: Transport, workDir: string, path: string): Promise<string[]> {
  return (await declaringSpecs(t, workDir, path)).map(({ spec }) => `VM ${spec.name}`);
}

/** A running VM of this working directory whose started spec names an image. */
export interface RunningHolder { name: string; handle: VmHandle }

/** Running VMs of this working directory whose started spec names the image, with their handles. */
export async function runningHoldersOf(t: Transport, workDir: string, path: string): Promise<RunningHolder[]> {
  const specs = await declaringSpecs(t, workDir, path);
  const handles = specs.map(({ dir }) => vmHandle(t, vmLayout(workDir, stateDirName(dir))));
  const states = await Promise.all(handles.map((h) => observe(h)));
  return specs.flatMap(({ spec }, i) => (states[i].state !== "stopped" ? [{ name: spec.name, handle: handles[i] }] : []));
}

/** Running VMs of this working directory whose started spec names the image. */
export async function runningUsersOf(t: Transport, workDir: string, path: string): Promise<string[]> {
  return (await runningHoldersOf(t, workDir, path)).map(({ name }) => `VM ${name}`);
}

/**
 * Grows an image the running VM `holder` has attached, through its QEMU (`block_resize`): the
 * image grows while QEMU holds it, and QEMU tells the guest's virtio disk its new size.
 */
export async function growOnline(holder: RunningHolder, path: string, bytes: number): Promise<void> {
  const image = (await liveImages(holder.handle)).find((i) => i.path === path);
  if (!image) {
    throw new QemuError("IN_USE", `${holder.handle.transport.description}: VM ${holder.name} declares ${path} but its QEMU does not have it attached writable; stop the VM (state: "stopped") to resize it`);
  }
  await withVmQmp(holder.handle, 5000, (qmp) => qmp.execute("block_resize", { device: image.device, size: bytes }, 60000));
}

/**
 * qcow2 images whose backing file is this one: its recorded clones (in any directory), and any
 * image under the working directory and beside it. qemu-img's JSON is parsed and the backing
 * file compared by identity (one inode, however spelled); an image that cannot be read, or a
 * search that fails, refuses the delete: "cannot tell" is never "none".
 */
export async function overlaysOf(t: Transport, workDir: string, path: string, doing = "deleting"): Promise<string[]> {
  const argv = hostOps(t).overlays([workDir, parentDir(path)], path);
  const { stdout } = expectSuccess(`${t.description}: looking for the clones of ${path}`, argv, await t.exec(argv));
  const { candidates, unreadable } = parseOverlayRecords(stdout.replace(/\r\n/g, "\n"));
  const backings = [...new Set(candidates.flatMap((c) => (c.backing ? [c.backing] : [])))];
  unreadable.push(...backings.filter((b) => b.includes("\n")).map((b) => `(a backing file name with a newline: ${JSON.stringify(b)})`));
  if (unreadable.length) {
    throw new QemuError("COMMAND_FAILED", `${t.description}: not ${doing} disk ${path}: cannot tell whether these images use it as their backing file: ${unreadable.join("; ")}`);
  }
  if (!backings.length) return [];
  const ops = hostOps(t);
  if (!ops.hardLinks) {
    // No hard links to tell apart: the same name (on Windows whatever the case and slashes) is the same file.
    return [...new Set(candidates.filter((c) => c.backing !== undefined && ops.samePath(c.backing, path)).map((c) => c.file))];
  }
  const same = sameFileArgv(path, backings);
  const isBase = new Set(expectSuccess(`${t.description}: comparing backing files with ${path}`, same, await t.exec(same)).stdout.split("\n").filter(Boolean));
  return [...new Set(candidates.filter((c) => c.backing !== undefined && isBase.has(c.backing)).map((c) => c.file))];
}

/** The name of a clone's record beside its base. */
function cloneEntry(clone: string): string {
  return createHash("sha256").update(clone).digest("hex").slice(0, 32);
}

/** Records a new linked clone beside its base; a clone that cannot be recorded is removed again. */
export async function recordClone(t: Transport, base: string, clone: string): Promise<void> {
  if (!hostOps(t).recordsBesideImages) return; // Windows hosts: clones are found by the search under the working directory only
  const argv = recordCloneArgv(base, clone, cloneEntry(clone));
  const r = await t.exec(argv);
  if (r.exitCode === 0) return;
  await removeFile(t, clone).catch(() => undefined);
  expectSuccess(`${t.description}: recording ${clone} as a clone of ${base} (so that ${base} is never deleted under it)`, argv, r);
}

/** Why an image must stay: a running VM holds it, a VM of the working directory declares it, or it is a clone's backing file. Throws when that cannot be told. */
export async function reasonToKeep(t: Transport, workDir: string, path: string): Promise<string | undefined> {
  // Without -U, qemu-img takes the image's lock: it fails exactly while a running QEMU holds it.
  // Where QEMU takes no locks, the VMs of this working directory that declare the image say it.
  const infoArgv = toolOn(t, ["qemu-img", "info", "--output=json", path]);
  const locked = await t.exec(infoArgv);
  const users = await usersOf(t, workDir, path);
  const held = locked.exitCode !== 0 && /lock/i.test(locked.stderr);
  if (held) return `a running VM uses it (${users.join(", ") || "a QEMU process outside pulumi-qemu"})`;
  if (users.length) return `${users.join(", ")} of this working directory declares it`;
  expectSuccess(`${t.description}: not deleting disk ${path}: qemu-img cannot read it, so whether it is in use is unknown`, infoArgv, locked);
  const overlays = await overlaysOf(t, workDir, path);
  return overlays.length ? `it is the backing file of ${overlays.join(", ")}; delete those first` : undefined;
}

/** Removes the image, its owner record, its base's record of it and its own record of clones. */
export async function removeImage(t: Transport, props: ImageRecord): Promise<void> {
  await removeFile(t, props.path);
  if (!props.shared) await releaseDisk(t, props.path, props.ownerToken, false);
  await forgetClone(t, props);
  // Its own record of clones, all gone now (a live one kept it above).
  if (hostOps(t).recordsBesideImages) await t.exec(["rm", "-rf", "--", cloneRecordDir(props.path)]);
}

/**
 * gc: deletes an image an expired VM used, once nothing else does. Only an image whose owner
 * record names the VM's own project and stack goes (never another's, never one without a record,
 * never a shared one), and only when a Disk's delete would: no VM holds or declares it, no clone
 * reads it. Throws the reason it stays.
 */
export async function removeLeftImage(t: Transport, workDir: string, path: string, stack: OwnerLabel): Promise<void> {
  const owner = await diskOwnerOf(t, path);
  if (owner?.record === undefined) throw new QemuError("OWNED_BY_ANOTHER", `${path} has no owner record (a shared image, an older release's, or not the package's)`);
  if (owner.record.project !== stack.project || owner.record.stack !== stack.stack) throw new QemuError("OWNED_BY_ANOTHER", `${path} belongs to ${describeOwner(owner.record)}`);
  const kept = await reasonToKeep(t, workDir, path);
  if (kept !== undefined) throw new QemuError("IN_USE", `${path} stays: ${kept}`);
  await removeImage(t, { path, backingFile: (await info(t, path))?.backingFile });
}

/** A deleted clone leaves its base's record of it. */
export async function forgetClone(t: Transport, props: Pick<ImageRecord, "path" | "backingImage" | "backingFile">): Promise<void> {
  const base = props.backingImage ?? props.backingFile;
  if (!hostOps(t).recordsBesideImages || base === undefined) return;
  await t.exec(forgetCloneArgv(base, cloneEntry(props.path)));
}

/**
 * Why `disk` is not a qcow2 clone of `base` with nothing written to it yet (a VM resumed from a
 * WarmState needs one: a written disk would not match the saved RAM); undefined when it is.
 */
export async function unwrittenCloneProblem(t: Transport, disk: string, base: string): Promise<string | undefined> {
  const i = await info(t, disk);
  if (!i) return `${disk} does not exist`;
  if (i.format !== "qcow2" || i.backingFile !== base) return `${disk} is not a linked clone of ${base}`;
  const argv = toolOn(t, ["qemu-img", "check", "--output=json", "-f", "qcow2", disk]);
  const r = await t.exec(argv);
  // check exits 0 (clean), 1-3 for problems in the image: its JSON says how many clusters hold data.
  const out = r.exitCode !== null && r.exitCode <= 3 ? r.stdout : expectSuccess(`${t.description}: checking ${disk}`, argv, r).stdout;
  let allocated: number | undefined;
  try {
    // qemu-img leaves allocated-clusters out when it is 0; total-clusters is always there.
    const c = JSON.parse(out) as { "allocated-clusters"?: number; "total-clusters"?: number };
    allocated = c["allocated-clusters"] ?? (typeof c["total-clusters"] === "number" ? 0 : undefined);
  } catch {
    allocated = undefined;
  }
  if (allocated === undefined) return `qemu-img check of ${disk} did not say what it holds`;
  return allocated === 0 ? undefined : `${disk} has been written since it was cloned (${allocated} clusters)`;
}
