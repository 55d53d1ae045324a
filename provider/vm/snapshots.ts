/**
 * Internal qcow2 snapshots of a VM's writable images: through QMP while its QEMU runs (guest
 * memory too, when asked), with qemu-img while nothing holds the images. qcow2 counts references
 * to every cluster, so deleting one snapshot never frees data another snapshot or the image needs.
 */
import { QemuError, expectSuccess } from "../errors";
import type { VmHandle } from "./handle";
import { snapshotArgv } from "../qemu/img";
import { toolOn, type Transport } from "../transport";
import { withVmQmp } from "./qmpEndpoint";
import { queryStatus } from "./observe";

/** A writable image attached to a running QEMU, as `query-block` names it. */
export interface LiveImage {
  device: string;
  path: string;
  format: string;
}

interface BlockInfo {
  device?: string;
  inserted?: { file?: string; ro?: boolean; drv?: string };
}

/** The writable images of `query-block`'s answer: read-only ones (seed, CD-ROM) hold no snapshot. */
export function writableImages(blocks: BlockInfo[]): LiveImage[] {
  return blocks.flatMap((b) => (b.inserted && !b.inserted.ro && b.device && b.inserted.file
    ? [{ device: b.device, path: b.inserted.file, format: String(b.inserted.drv) }] : []));
}

/** Savevm, loadvm and a large delvm run as long as the guest memory takes to write or read. */
const LONG_MS = 600000;

/** An HMP command through QMP: it answers with text, which is empty exactly when it worked. */
async function hmp(handle: VmHandle, commandLine: string, what: string): Promise<void> {
  const { transport } = handle;
  const said = await withVmQmp(handle, 5000, (qmp) => qmp.execute<string>("human-monitor-command", { "command-line": commandLine }, LONG_MS));
  const text = String(said ?? "").trim();
  if (text) throw new QemuError("COMMAND_FAILED", `${transport.description}: ${what}: QEMU said: ${text}`);
}

export async function liveImages(handle: VmHandle): Promise<LiveImage[]> {
  return writableImages(await withVmQmp(handle, 5000, (qmp) => qmp.execute<BlockInfo[]>("query-block")));
}

/**
 * Takes a snapshot of a running VM: with memory, QEMU's savevm (the guest pauses while its
 * memory is written); without, one transaction over every writable image (crash-consistent).
 */
export async function takeLive(handle: VmHandle, vm: string, tag: string, memory: boolean, images: LiveImage[]): Promise<void> {
  const { transport } = handle;
  const what = `taking snapshot ${tag} of VM ${vm}`;
  if (memory) return hmp(handle, `savevm ${tag}`, what);
  const actions = images.map((i) => ({ type: "blockdev-snapshot-internal-sync", data: { device: i.device, name: tag } }));
  await withVmQmp(handle, 5000, (qmp) => qmp.execute("transaction", { actions }, LONG_MS)).catch((e: Error) => {
    throw new QemuError("COMMAND_FAILED", `${transport.description}: ${what}: ${e.message}`);
  });
}

/**
 * Brings a running VM back to a snapshot with memory: disks, memory and devices at once. QEMU
 * reverts the disks first; when the memory then fails to load (the VM was restarted with other
 * memory or devices since), it holds the VM in restore-vm, which observe reads as failed.
 */
/** `label`: how messages name the VM ("VM web"). */
export async function revertLive(handle: VmHandle, label: string, tag: string): Promise<void> {
  try {
    await hmp(handle, `loadvm ${tag}`, `reverting ${label} to snapshot ${tag}`);
  } catch (e) {
    const status = await queryStatus(handle).then((s) => s.status, () => "unknown");
    if (status !== "restore-vm") throw e;
    throw new QemuError("COMMAND_FAILED", `${(e as Error).message.trimEnd()}\nIts disks are now at snapshot ${tag}, its memory is not: QEMU holds it stopped (restore-vm), and it is never resumed like this. \`pulumi up --refresh\` restarts it from its disks (the guest boots). Was the VM restarted with other memory, CPUs or devices since the snapshot was taken?`);
  }
}

export function deleteLive(handle: VmHandle, vm: string, tag: string): Promise<void> {
  return hmp(handle, `delvm ${tag}`, `deleting snapshot ${tag} of VM ${vm}`);
}

/** One qemu-img snapshot operation on an image no QEMU holds (qemu-img takes its lock). */
export async function offline(transport: Transport, op: "create" | "apply" | "delete", tag: string, path: string): Promise<void> {
  const argv = toolOn(transport, snapshotArgv(op, tag, path));
  const doing = { create: "taking", apply: "reverting to", delete: "deleting" }[op];
  expectSuccess(`${transport.description}: ${doing} snapshot ${tag} of ${path}`, argv, await transport.exec(argv));
}
