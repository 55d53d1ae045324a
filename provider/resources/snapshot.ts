/**
 * Snapshot: a named internal snapshot of a VM's writable qcow2 images (and its memory, when
 * asked and the VM runs), or of one Disk. A changed `revertTrigger` brings the VM or disk back
 * to it in place. Never overwrites a snapshot of the same name; never reverts an image that a
 * running VM holds without QEMU, or one that linked clones read through.
 */
import { sameData } from "../canonical";
import { vmHandle } from "../vm/handle";
import { InvalidArgumentError, QemuError } from "../errors";
import type { ImageInfo, ImageSnapshot } from "../qemu/img";
import { transportFor, validateConnection, type Connection, type Transport } from "../transport";
import { absolutePath, booleanInput, safeName, snapshotTag } from "../validate";
import { vmLayout, type VmLayout } from "../layout";
import { programName } from "../vm/owner";
import { observe } from "../vm/observe";
import type { VmSpec } from "../vm/spec";
import { withFrozenGuest } from "../vm/guestAgent";
import { deleteLive, liveImages, offline, revertLive, takeLive, type LiveImage } from "../vm/snapshots";
import { connectionIdentity, hostInDiff } from "./connection";
import { info, overlaysOf, runningUsersOf } from "../disks/images";
import { progress } from "../progress";
import { collectFailures, plain, throwFailures, recordedProviderChanged, type CheckResult, type CreateResult, type DiffResult, type ReadResult, type Validation } from "./types";

export interface SnapshotInputs {
  host: Connection;
  hostId?: string;
  /** The VM whose writable images (and memory) it holds: a Vm's name on the host. */
  vm?: string;
  /** Or one image: a Disk's path. */
  disk?: string;
  /** The snapshot's name in the images. */
  name: string;
  /** Save the running guest's memory and devices too, so that a revert resumes where it was. */
  memory?: boolean;
  /** Any value; when it changes, the VM or disk is brought back to this snapshot. */
  revertTrigger?: unknown;
}

export interface SnapshotOutputs extends SnapshotInputs {
  /** The images that hold it. */
  images: string[];
  /** It holds the guest's memory (a running VM reverts to it without a restart). */
  withMemory: boolean;
  /** When it was taken (ISO 8601), as the image records it. */
  takenAt?: string;
  /** Every image still has it (a refresh sees one deleted behind Pulumi's back). */
  present: boolean;
  /** With memory: the machine the memory was saved from (see machineOf); a revert needs the same. */
  machineAtSnapshot?: Record<string, string>;
}

function validations(i: SnapshotInputs): Validation[] {
  return [
    [[i.host], () => validateConnection(i.host, "host")],
    [[i.vm, i.disk], () => {
      if ((i.vm === undefined) === (i.disk === undefined)) throw new InvalidArgumentError("vm", "give exactly one of vm (a Vm) and disk (a Disk)");
      if (i.vm !== undefined) safeName(i.vm, "vm");
      if (i.disk !== undefined) absolutePath(i.disk, "disk");
    }],
    [[i.name], () => snapshotTag(i.name, "name")],
    [[i.memory, i.disk], () => {
      if (booleanInput(i.memory, "memory") && i.disk !== undefined) throw new InvalidArgumentError("memory", "a Disk has no memory: snapshot the Vm that runs on it");
    }],
  ];
}

export async function check(_olds: unknown, news: SnapshotInputs): Promise<CheckResult<SnapshotInputs>> {
  const failures = collectFailures(validations(news));
  return failures.length ? { failures } : { inputs: news };
}

const IDENTITY = ["vm", "disk", "name", "memory"] as const;

export async function diff(_id: string, olds: SnapshotOutputs, given: SnapshotInputs): Promise<DiffResult> {
  const host = hostInDiff(olds.host, given.host, given.hostId);
  const replaces = [host.replaced ? "host" : "", ...IDENTITY.filter((k) => !sameData(olds[k], given[k]))].filter(Boolean);
  const revert = !sameData(olds.revertTrigger, given.revertTrigger);
  const of = olds.vm !== undefined ? `VM ${programName(olds.vm)}` : `disk ${olds.disk}`;
  // The engine shows only that revertTrigger changed; say what that does to the guest.
  if (revert && !replaces.length) {
    progress(`Snapshot ${olds.name}: the update reverts ${of} to it${olds.vm !== undefined && olds.withMemory ? " (disks and memory: the running guest goes on from the moment it was taken)" : ""}`);
  }
  // A new name can be taken before the old snapshot goes; the same name only after (one tag per image).
  const deleteFirst = replaces.length > 0 && sameData(olds.name, given.name) && !host.replaced && sameData(olds.vm, given.vm) && sameData(olds.disk, given.disk);
  if (replaces.length) {
    const old = `its saved state taken at ${olds.takenAt ?? "an unknown time"}${olds.withMemory ? " (disks and memory)" : ""}`;
    progress(deleteFirst
      ? `Snapshot ${olds.name} of ${of}: the update deletes ${old}, then takes it again from the current state (${replaces.join(", ")} changed)`
      : `Snapshot ${olds.name} of ${of}: the update takes the new one from the current state first, then deletes ${old} (${replaces.join(", ")} changed)`);
  }
  return { changes: replaces.length > 0 || revert || host.credentials || recordedProviderChanged(olds, given), replaces, deleteBeforeReplace: deleteFirst };
}

interface Target {
  t: Transport;
  /** "VM web" or "disk /p": for messages. */
  label: string;
  property: "vm" | "disk";
  /** The VM's, when the target is a VM. */
  layout?: VmLayout;
  /** A QEMU of the VM runs (QMP does the work): its writable images, as QEMU names them. */
  live?: LiveImage[];
  /** The spec the running QEMU was started with, as its state directory records it. */
  startedSpec?: VmSpec;
  paths: string[];
}

/** What the snapshot is of, as the host has it now; undefined for a VM never started here (its images are not known). */
async function targetOf(i: SnapshotInputs): Promise<Target | undefined> {
  const t = transportFor(i.host);
  if (i.disk !== undefined) return { t, label: `disk ${i.disk}`, property: "disk", paths: [i.disk] };
  const layout = vmLayout(i.host.workDir, i.vm!);
  const seen = await observe(vmHandle(t, layout, i.vm!));
  // By the name the program gave it (`vm` is its name on the host, NAME.TAG for a VM of this release).
  const label = `VM ${seen.startedSpec?.name ?? programName(i.vm!)}`;
  if (seen.state === "running" || seen.state === "paused") {
    const live = await liveImages(vmHandle(t, layout));
    return { t, label, property: "vm", layout, live, startedSpec: seen.startedSpec, paths: live.map((x) => x.path) };
  }
  if (seen.state === "failed") throw new QemuError("COMMAND_FAILED", `${t.description}: ${label}: its QEMU runs but its guest does not (${seen.detail}); snapshots are left alone until it runs or is stopped`);
  const paths = seen.startedSpec?.disks.filter((d) => !d.readOnly).map((d) => d.path);
  return paths && { t, label, property: "vm", layout, paths };
}

async function existingTarget(i: SnapshotInputs): Promise<Target> {
  const tg = await targetOf(i);
  if (!tg) throw new QemuError("NOT_FOUND", `${transportFor(i.host).description}: VM ${programName(i.vm!)} has never been started in ${vmLayout(i.host.workDir, i.vm!).dir}, so its images are not known: snapshot its Disks instead`);
  return tg;
}

/** The snapshot of this name in each image (undefined where an image has none). */
function named(infos: ImageInfo[], tag: string): Array<ImageSnapshot | undefined> {
  return infos.map((x) => x.snapshots.find((s) => s.name === tag));
}

/** qemu-img's view of every image; a missing image is an error (a snapshot needs its image). */
async function infosOf(tg: Target): Promise<ImageInfo[]> {
  return Promise.all(tg.paths.map(async (p) => {
    const i = await info(tg.t, p);
    if (!i) throw new QemuError("NOT_FOUND", `${tg.t.description}: ${tg.label}: image ${p} is missing`);
    return i;
  }));
}

function checkSnapshottable(tg: Target, infos: ImageInfo[]): void {
  if (!tg.paths.length) throw new InvalidArgumentError(tg.property, `${tg.label} has no writable disk to hold a snapshot`);
  const raw = tg.paths.flatMap((p, k) => (infos[k].format !== "qcow2" ? [`${p} is a ${infos[k].format} image`] : []));
  if (raw.length) throw new InvalidArgumentError(tg.property, `${tg.label}: ${raw.join(", ")}; internal snapshots need qcow2 (convert it, or attach it read-only)`);
}

/** Where a VM's QEMU is not running, no other running VM of this working directory may hold an image either. */
async function refuseHeld(tg: Target, host: Connection, doing: string): Promise<void> {
  for (const p of tg.paths) {
    const users = await runningUsersOf(tg.t, host.workDir, p);
    if (users.length) throw new QemuError("IN_USE", `${tg.t.description}: not ${doing} ${p}: ${users.join(", ")} runs with it`);
  }
}

function describe(i: SnapshotInputs & Pick<SnapshotOutputs, "machineAtSnapshot">, tg: Target, infos: ImageInfo[]): SnapshotOutputs {
  const found = named(infos, i.name);
  const first = found.find((s) => s !== undefined);
  return plain({
    ...i,
    images: tg.paths,
    withMemory: found.some((s) => (s?.vmStateSize ?? 0) > 0),
    takenAt: first ? new Date(first.dateSec * 1000).toISOString() : undefined,
    present: found.length > 0 && found.every((s) => s !== undefined),
  });
}

export async function create(inputs: SnapshotInputs): Promise<CreateResult<SnapshotOutputs>> {
  throwFailures(collectFailures(validations(inputs)));
  const tg = await existingTarget(inputs);
  const infos = await infosOf(tg);
  checkSnapshottable(tg, infos);
  const found = named(infos, inputs.name);
  const taken = tg.paths.filter((_, k) => found[k] !== undefined);
  if (taken.length) {
    throw new InvalidArgumentError("name", `${tg.label} already has a snapshot named ${inputs.name} (in ${taken.join(", ")}); another of that name would replace it: choose another name, or delete it first`);
  }
  const memory = inputs.memory === true;
  if (memory && !tg.live) throw new InvalidArgumentError("memory", `${tg.label} is not running, so it has no memory to save: start it, or take the snapshot without memory`);
  const t0 = Date.now();
  if (tg.live) {
    const handle = vmHandle(tg.t, tg.layout!);
    const take = () => takeLive(handle, inputs.vm!, inputs.name, memory, tg.live!);
    // With its agent, a disk-only snapshot is taken between a freeze and a thaw of the guest's file systems: consistent, not just crash-consistent.
    if (!memory && tg.startedSpec?.guestAgent) await withFrozenGuest(handle, take);
    else await take();
  } else {
    await refuseHeld(tg, inputs.host, "taking a snapshot of");
    await takeOffline(tg, inputs.name);
  }
  progress(`${tg.label}: snapshot ${inputs.name} taken${memory ? " with memory" : ""} in ${Date.now() - t0} ms`);
  const machineAtSnapshot = memory && tg.startedSpec ? machineOf(tg.startedSpec) : undefined;
  const outs = describe({ ...inputs, machineAtSnapshot }, tg, await infosOf(tg));
  return { id: `${connectionIdentity(inputs.host)}#snapshot:${inputs.vm !== undefined ? `vm:${inputs.vm}` : `disk:${inputs.disk}`}@${inputs.name}`, outs };
}

/** Every image or none: a failure removes the snapshots already taken. */
async function takeOffline(tg: Target, tag: string): Promise<void> {
  const done: string[] = [];
  try {
    for (const p of tg.paths) {
      await offline(tg.t, "create", tag, p);
      done.push(p);
    }
  } catch (e) {
    for (const p of done) await offline(tg.t, "delete", tag, p).catch(() => undefined);
    throw e;
  }
}

export async function read(id: string, props: SnapshotOutputs): Promise<ReadResult<SnapshotOutputs>> {
  const tg = await existingTarget(props);
  return { id, props: describe(props, tg, await infosOf(tg)) };
}

export async function update(_id: string, olds: SnapshotOutputs, news: SnapshotInputs): Promise<{ outs: SnapshotOutputs }> {
  throwFailures(collectFailures(validations(news)));
  const tg = await existingTarget(news);
  // A revert changes the images' contents, not their snapshot tables: one read serves both.
  const infos = await infosOf(tg);
  if (!sameData(olds.revertTrigger, news.revertTrigger)) await revert(news, tg, infos, olds.machineAtSnapshot);
  return { outs: describe({ ...news, machineAtSnapshot: olds.machineAtSnapshot }, tg, infos) };
}

/**
 * What a VM's saved memory and devices fit: QEMU loads them only into the same machine, memory,
 * CPUs and devices. Forwarded ports, paths and the kernel's command line are not in it.
 */
export function machineOf(spec: VmSpec): Record<string, string> {
  const nics = spec.networks.map((n) => n.type);
  return {
    arch: spec.arch, machine: spec.machine ?? "default", cpu: spec.cpu ?? "default", cpus: String(spec.cpus),
    memory: `${spec.memoryBytes / 1048576} MiB`,
    disks: spec.disks.map((d) => `${d.interface}${d.readOnly ? " (read-only)" : ""}`).join(", ") || "none",
    cdrom: spec.cdrom ? "yes" : "no", cloudInitSeed: spec.cloudInit ? "yes" : "no",
    networks: nics.join(", ") || "none", extraArgs: spec.extraArgs.join(" ") || "none",
  };
}

/** "memory: 256 MiB -> 288 MiB", one per property that differs; extraArgs unquoted (it may hold a secret). */
export function machineChanges(was: Record<string, string>, now: Record<string, string>): string[] {
  return [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => was[k] !== now[k])
    .map((k) => (k === "extraArgs" ? "extraArgs changed" : `${k}: ${was[k] ?? "unknown"} -> ${now[k] ?? "unknown"}`));
}

async function revert(i: SnapshotInputs, tg: Target, infos: ImageInfo[], machineAtSnapshot?: Record<string, string>): Promise<void> {
  const found = named(infos, i.name);
  const missing = tg.paths.filter((_, k) => found[k] === undefined);
  if (missing.length) {
    const has = [...new Set(infos.flatMap((x) => x.snapshots.map((s) => s.name)))];
    throw new InvalidArgumentError("name", `cannot revert ${tg.label} to snapshot ${i.name}: ${missing.join(", ")} has no such snapshot (snapshots there: ${has.join(", ") || "none"}); it was deleted outside Pulumi or the disks changed`);
  }
  // Either way, a base that linked clones read through must not change under them.
  for (const p of tg.paths) {
    const clones = await overlaysOf(tg.t, i.host.workDir, p, "reverting");
    if (clones.length) throw new QemuError("IN_USE", `${tg.t.description}: not reverting ${p}: it is the backing file of ${clones.join(", ")}, which would read changed data`);
  }
  const t0 = Date.now();
  if (tg.live) {
    // savevm writes the memory into one of the images.
    const withMemory = found.some((s) => (s?.vmStateSize ?? 0) > 0);
    if (!withMemory) {
      throw new InvalidArgumentError("revertTrigger", `snapshot ${i.name} of ${tg.label} holds no memory, and a running VM is reverted only to a snapshot with memory: stop it (state: "stopped") to revert its disks, or take the snapshot with memory: true`);
    }
    // Refused before QEMU touches anything: a failed loadvm has already reverted the disks.
    // Without a record (an older release's snapshot, or a spec that cannot be read), QEMU judges.
    const changed = machineAtSnapshot && tg.startedSpec ? machineChanges(machineAtSnapshot, machineOf(tg.startedSpec)) : [];
    if (changed.length) {
      throw new InvalidArgumentError("revertTrigger", `${tg.label} was restarted with another machine since snapshot ${i.name} was taken (${changed.join("; ")}), and its saved memory fits only the machine it was saved from; nothing was changed. Revert those settings first, or stop the VM (state: "stopped") to revert its disks only, or take a new snapshot`);
    }
    await revertLive(vmHandle(tg.t, tg.layout!), tg.label, i.name);
  } else {
    await refuseHeld(tg, i.host, "reverting");
    for (const p of tg.paths) await offline(tg.t, "apply", i.name, p);
  }
  progress(`${tg.label}: reverted to snapshot ${i.name} in ${Date.now() - t0} ms`);
}

/** Removes the snapshot from every image that has it; a target already gone has nothing to remove. */
export async function remove(_id: string, props: SnapshotOutputs): Promise<void> {
  const tg = await targetOf(props);
  if (!tg) return; // its state directory went with the VM
  const present = [];
  for (const p of tg.paths) {
    const i = await info(tg.t, p);
    if (i && named([i], props.name)[0]) present.push(p);
  }
  if (!present.length) return;
  if (tg.live) return deleteLive(vmHandle(tg.t, tg.layout!), props.vm!, props.name);
  await refuseHeld({ ...tg, paths: present }, props.host, "deleting a snapshot of");
  for (const p of present) await offline(tg.t, "delete", props.name, p);
}
