/**
 * WarmState: a guest booted once on a host and saved running (its disk frozen as a base, its RAM
 * in a file, its devices' state beside them), that VMs with `warmFrom` resume instead of booting.
 * It is named by a key of everything that makes it (the guest's spec, the base image, QEMU's
 * version, the accelerator): stacks that declare the same one on a host share it, and the first
 * builds it while the others wait. Delete forgets this stack's use; the state stays for the next
 * up, and `pulumi-qemu gc --images` removes it once no stack uses it and no clone reads its disk.
 */
import { createHash } from "crypto";
import { InvalidArgumentError, QemuError, expectSuccess } from "../errors";
import { vmHandle } from "../vm/handle";
import { connectionIdentity } from "./connection";
import { makeDirectory, parentDir, pathExists, toolOn, transportFor, type Connection, type Transport } from "../transport";
import { sharedImagePath, vmLayout, warmLayout, warmLayoutAt, warmRoot, type WarmLayout } from "../layout";
import { SEED_KEY_V2, vmSpec, type ReadinessSpec, type VmInputs } from "../vm/spec";
import type { CloudInitInputs } from "../cloudInit/seed";
import { newOwnerToken, ownedName, type OwnerLabel } from "../vm/owner";
import { claimDisk, releaseDisk, sharedOwnersOf } from "../disks/owner";
import { createArgv } from "../qemu/img";
import { forgetClone, info, qemuImg, reasonToKeep, recordClone, removeImage } from "../disks/images";
import { acceleratorsToTry, start, type Context } from "../lifecycle/vmStart";
import { DEFAULT_READINESS_TIMEOUT_MS, stopVm } from "../vm/execute";
import { readWarmMeta, saveDevices, type WarmMeta } from "../vm/warm";
import { defaultMac } from "../subnet";
import { progress } from "../progress";
import { collectInvalid, sizeBytes } from "../validate";
import { containsUnknown, plain, type CheckResult, type CreateResult, type DiffResult, type ReadResult } from "./types";

/** The guest a WarmState saves: a Vm's inputs for what QEMU runs, its NICs by kind, and its base image. */
export interface WarmStateInputs extends Pick<VmInputs, "arch" | "cpus" | "memory" | "machine" | "cpu" | "kernel" | "initrd" | "append" | "extraArgs"> {
  host: Connection;
  hostId?: string;
  /** One accelerator, or "auto" (default): the host's best; the VMs made from it run under the same. */
  accelerator?: string;
  /** The image the saved guest's disk is a linked clone of (a Fleet's shared base, an Image's path). */
  baseImage: string;
  baseFormat?: "qcow2" | "raw";
  /** Size of the saved guest's disk (its clones can only grow it). Default the base's. */
  diskSize?: string | number;
  /** The NICs of the VMs made from it, in order: "user" or "private" (the saved guest has as many, all user-mode). */
  nics?: Array<"user" | "private">;
  /** When the guest counts as booted, before it is saved (the agent is always waited for too). */
  readiness?: ReadinessSpec;
  /** The saved guest's cloud-init seed (it runs once, in the guest saved); the VMs made from it carry one with its instance-id. */
  cloudInit?: CloudInitInputs;
  ownerToken?: string;
  owner?: OwnerLabel;
}

export interface WarmStateOutputs extends WarmStateInputs {
  key: string;
  /** The state's directory: a Vm's `warmFrom`. */
  dir: string;
  /** The saved guest's disk: the `backingImage` of each VM's clone. */
  disk: string;
  acceleratorInUse: string;
  /** Whether this create found the state already made (by an earlier up or another stack). */
  reused: boolean;
  buildMs: number;
  /** The saved guest's cloud-init instance-id (with cloudInit): the VMs made from it give it as theirs. */
  instanceId?: string;
}

const KINDS = ["user", "private"] as const;

/**
 * The saved guest's Vm inputs (its name and files aside): what the key and the build take.
 * `seal` keys the seed's digest and instance-id (see hostSeal): the same on a host's workDir, so
 * stacks share the state, yet no plain hash of user-data is on the host or in the guest.
 */
function guestInputs(inputs: WarmStateInputs, name: string, disk: string, seal?: string): VmInputs {
  const nics = inputs.nics ?? ["user"];
  return {
    cloudInit: inputs.cloudInit, seedKey: seal ? `${SEED_KEY_V2}${seal}` : undefined,
    host: inputs.host, name, arch: inputs.arch, cpus: inputs.cpus, memory: inputs.memory, machine: inputs.machine, cpu: inputs.cpu,
    accelerator: inputs.accelerator ?? "auto", kernel: inputs.kernel, initrd: inputs.initrd, append: inputs.append, extraArgs: inputs.extraArgs,
    disks: [{ path: disk, format: "qcow2" }], networks: nics.map(() => ({ type: "user" as const })),
    // No forwards on the saved guest: a guest port is waited for by each VM made from it, not here.
    guestAgent: true, warmFrom: "/", readiness: { ...inputs.readiness, guestPort: undefined, guestAgent: true },
  };
}

function validate(inputs: WarmStateInputs): InvalidArgumentError[] {
  const errors = vmSpec(guestInputs(inputs, "warm", "/d")).errors;
  const add = (f: () => void) => collectInvalid(errors, f);
  add(() => { if (typeof inputs.baseImage !== "string" || !inputs.baseImage.startsWith("/")) throw new InvalidArgumentError("baseImage", "must be an absolute path on the host"); });
  add(() => { if (inputs.baseFormat !== undefined && !["qcow2", "raw"].includes(inputs.baseFormat)) throw new InvalidArgumentError("baseFormat", `must be "qcow2" or "raw", got ${JSON.stringify(inputs.baseFormat)}`); });
  add(() => (inputs.nics ?? []).forEach((k, i) => { if (!KINDS.includes(k)) throw new InvalidArgumentError(`nics[${i}]`, `must be "user" or "private", got ${JSON.stringify(k)}`); }));
  add(() => { if (inputs.diskSize !== undefined) sizeBytes(inputs.diskSize, "diskSize"); });
  add(() => { if (Array.isArray(inputs.accelerator)) throw new InvalidArgumentError("accelerator", "must be one accelerator or \"auto\": a saved guest resumes only under the one it ran under"); });
  return errors;
}

export async function check(_olds: unknown, news: WarmStateInputs): Promise<CheckResult<WarmStateInputs>> {
  if (containsUnknown(news)) return { inputs: news };
  const errors = validate(news);
  return errors.length ? { failures: errors.map((e) => ({ property: e.property, reason: e.reason })) } : { inputs: news };
}

/** What makes the saved guest: a change makes another state (the old one stays until gc). */
const IN_KEY = ["arch", "cpus", "memory", "machine", "cpu", "accelerator", "kernel", "initrd", "append", "extraArgs", "baseImage", "baseFormat", "diskSize", "nics", "cloudInit"] as const;

export async function diff(_id: string, olds: WarmStateOutputs, news: WarmStateInputs): Promise<DiffResult> {
  const replaces: string[] = IN_KEY.filter((k) => JSON.stringify(news[k]) !== JSON.stringify(olds[k]));
  if (connectionIdentity(olds.host) !== connectionIdentity(news.host) && !containsUnknown(news.host)) replaces.push("host");
  const readiness = JSON.stringify(news.readiness) !== JSON.stringify(olds.readiness);
  return { changes: replaces.length > 0 || readiness, replaces, deleteBeforeReplace: false };
}

/** The key of everything that makes the saved guest: a state is reused only when all of it is the same. */
async function keyOf(t: Transport, inputs: WarmStateInputs, accelerator: string, seal: string | undefined): Promise<string> {
  const { spec } = vmSpec({ ...guestInputs(inputs, "warm", "/d", seal), accelerator });
  const qemu = toolOn(t, [`qemu-system-${spec.arch}`, "--version"]);
  const version = expectSuccess(`${t.description}: asking QEMU its version`, qemu, await t.exec(qemu)).stdout.split("\n")[0];
  const stat = ["ls", "-lLin", "--", inputs.baseImage];
  const base = expectSuccess(`${t.description}: reading the base image ${inputs.baseImage}`, stat, await t.exec(stat)).stdout.trim();
  const what = { spec: { ...spec, name: undefined, disks: undefined }, base, baseImage: inputs.baseImage, baseFormat: inputs.baseFormat, diskSize: inputs.diskSize, version };
  return createHash("sha256").update(JSON.stringify(what)).digest("hex").slice(0, 32);
}

const BUILD_WAIT_MS = 600000;

/** What a build may take beyond its readiness wait: QEMU's start and the save (the RAM is already in its file). */
const BUILD_MARGIN_MS = 180000;

/**
 * The builder VM's lease: its readiness wait and the margin. A build whose provider process was
 * killed leaves its builder running; once the lease ends, `pulumi-qemu gc --expired` stops it,
 * and two quiet minutes later the state's directory counts as abandoned.
 */
export function builderLease(inputs: Pick<WarmStateInputs, "readiness">): string {
  return `${Math.ceil((readinessMs(inputs) + BUILD_MARGIN_MS) / 1000)}s`;
}

/** The builder's readiness wait, as its start will run it. */
function readinessMs(inputs: Pick<WarmStateInputs, "readiness">): number {
  return inputs.readiness?.timeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
}

/**
 * Takes the state's directory to build it (an atomic mkdir), or waits while another build of
 * the same key has it: "built" when that one finished, "taken" when this one builds.
 */
async function takeOrWait(t: Transport, layout: WarmLayout, timeoutMs: number): Promise<"built" | "taken"> {
  await makeDirectory(t, layout.root);
  const deadline = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    if (await readWarmMeta(t, layout)) return "built";
    const r = await t.exec(["mkdir", "-m", "700", "--", layout.dir]);
    if (r.exitCode === 0) return "taken";
    if (await abandoned(t, layout)) {
      progress(`WarmState ${layout.dir}: an earlier build was cut off; removing what it left`);
      await discard(t, layout);
      continue;
    }
    if (!said) progress(`WarmState ${layout.dir}: another build of it is under way; waiting for it`);
    said = true;
    if (Date.now() > deadline) {
      throw new QemuError("TIMEOUT", `${t.description}: ${layout.dir} has been unfinished for ${timeoutMs} ms (a build in another process, or one that was killed): ` +
        "remove it when no pulumi-qemu operation runs, or run `pulumi-qemu gc --images`");
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/** Boots the guest, waits until it is ready, saves it, and stops it; the state's files are complete only once meta.json is there. */
async function build(t: Transport, inputs: WarmStateInputs, key: string, layout: WarmLayout, accelerator: string, seal: string | undefined): Promise<WarmMeta> {
  const t0 = Date.now();
  const token = newOwnerToken();
  const name = builderName(key);
  const guest: VmInputs = { ...guestInputs(inputs, name, layout.disk, seal), accelerator, warmFrom: layout.dir, ownerToken: token, owner: inputs.owner, expiresAfter: builderLease(inputs) };
  const { spec, cloudInitImage, cloudInitInstanceId } = vmSpec(guest);
  const c: Context = { ...vmHandle(t, vmLayout(inputs.host.workDir, ownedName(name, token))), spec, cloudInitImage, warmBuild: layout };
  try {
    const baseFormat = inputs.baseFormat ?? ((await info(t, inputs.baseImage))?.format === "raw" ? "raw" : "qcow2");
    const size = inputs.diskSize === undefined ? undefined : sizeBytes(inputs.diskSize, "diskSize");
    await qemuImg(t, createArgv({ path: layout.disk, format: "qcow2", sizeBytes: size, backing: { path: inputs.baseImage, format: baseFormat } }), `making ${layout.disk}`);
    // Recorded beside the base, wherever it is: it is never deleted under the saved guest.
    await recordClone(t, inputs.baseImage, layout.disk);
    progress(`WarmState ${layout.dir}: booting the guest to save (${accelerator})`);
    await start(c, guest, true);
    await saveDevices(c, `${layout.state}.part`);
    await stopVm(c, { powerdownMs: 0, quitMs: 5000 }, progress, { removeState: "vms" });
    const meta: WarmMeta = { key, macs: spec.networks.map((_, i) => defaultMac(i)), accelerator, memoryBytes: spec.memoryBytes, created: new Date().toISOString(), buildMs: Date.now() - t0, ...(cloudInitInstanceId ? { instanceId: cloudInitInstanceId } : {}) };
    await t.writeFile(`${layout.meta}.part`, JSON.stringify(meta), { mode: 0o600 });
    // The disk is a base from now on; meta.json last: the state is complete.
    const finish = ["sh", "-c", 'mv -f -- "$1.part" "$1" && chmod a-w -- "$2" && mv -f -- "$3.part" "$3"', "warm-finish", layout.state, layout.disk, layout.meta];
    expectSuccess(`${t.description}: completing ${layout.dir}`, finish, await t.exec(finish));
    progress(`WarmState ${layout.dir}: saved after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return meta;
  } catch (e) {
    await stopVm(c, { powerdownMs: 0, quitMs: 3000 }, progress, { removeState: "vms" }).catch(() => undefined);
    await discard(t, layout);
    throw e;
  }
}

/**
 * The working directory's key for seeds of saved guests (`warm/.seal`, 32 random bytes, mode
 * 0600), made once: the first writer links it in whole, so every reader sees one key.
 */
async function hostSeal(t: Transport, workDir: string): Promise<string> {
  const file = `${warmRoot(workDir)}/.seal`;
  const script = 'umask 077; mkdir -p -- "$(dirname -- "$1")" || exit 1; if [ ! -s "$1" ]; then tmp="$1.$$"; ' +
    'head -c 32 /dev/urandom | od -An -tx1 | tr -d " \\n" > "$tmp" && { ln -- "$tmp" "$1" 2>/dev/null; rm -f -- "$tmp"; }; fi; cat -- "$1"';
  const argv = ["sh", "-c", script, "warm-seal", file];
  const seal = expectSuccess(`${t.description}: reading ${file}`, argv, await t.exec(argv)).stdout.trim();
  if (!/^[0-9a-f]{64}$/.test(seal)) throw new QemuError("COMMAND_FAILED", `${t.description}: ${file} is not 64 hex digits; remove it when no WarmState is built`);
  return seal;
}

/** The name of the QEMU that builds the state of `key` (`-name guest=`). */
function builderName(key: string): string {
  return `warm-${key.slice(0, 12)}`;
}

/** An unfinished state no build works on: no builder QEMU of it runs, and nothing in it changed for 2 minutes. */
async function abandoned(t: Transport, layout: WarmLayout): Promise<boolean> {
  const key = layout.dir.slice(layout.dir.lastIndexOf("/") + 1);
  const script = 'ps -eo args 2>/dev/null | grep -F -- "guest=$1" | grep -qv grep && exit 1; [ -n "$(find "$2" -maxdepth 1 -mmin -2 2>/dev/null | head -n1)" ] && exit 1; exit 0';
  const r = await t.exec(["sh", "-c", script, "warm-abandoned", builderName(key), layout.dir]);
  return r.exitCode === 0;
}

/** Removes a state's directory (only a directory under the working directory's warm/, named by a key), and its base's record of its disk; returns that base. */
async function discard(t: Transport, layout: WarmLayout): Promise<string | undefined> {
  if (!/\/warm\/[0-9a-f]{32}$/.test(layout.dir)) throw new QemuError("INVALID_ARGUMENT", `refusing to remove ${layout.dir}: not a WarmState's directory`);
  const base = (await info(t, layout.disk).catch(() => undefined))?.backingFile;
  await t.exec(["rm", "-rf", "--", layout.dir]);
  if (base) await forgetClone(t, { path: layout.disk, backingFile: base });
  return base;
}

/**
 * A Fleet's uploaded base (`<workDir>/images/<name>-<16 hex>.<format>`, a shared Disk) that the
 * Fleet's destroy had to keep because a saved guest's disk was its clone: removed with the last
 * such state, once no stack records a use of it and nothing else holds or reads it.
 */
async function removeLeftFleetBase(t: Transport, workDir: string, base: string | undefined, report: (m: string) => void): Promise<void> {
  const imagesDir = parentDir(sharedImagePath(workDir, "x", "qcow2"));
  if (!base || parentDir(base) !== imagesDir || !/^[^/]+-[0-9a-f]{16}\.(qcow2|raw)$/.test(base.slice(imagesDir.length + 1))) return;
  if ((await sharedOwnersOf(t, base)).length) return;
  if (await reasonToKeep(t, workDir, base).catch((e: Error) => e.message) !== undefined) return;
  await removeImage(t, { path: base, shared: true });
  report(`Disk ${base}: removed (a Fleet's base that only a saved guest still used)`);
}

function outputsOf(inputs: WarmStateInputs, key: string, layout: WarmLayout, meta: WarmMeta, reused: boolean): WarmStateOutputs {
  return plain({ ...inputs, key, dir: layout.dir, disk: layout.disk, acceleratorInUse: meta.accelerator, reused, buildMs: meta.buildMs, ...(meta.instanceId ? { instanceId: meta.instanceId } : {}) });
}

export async function create(given: WarmStateInputs): Promise<CreateResult<WarmStateOutputs>> {
  const errors = validate(given);
  if (errors.length) throw errors[0];
  const inputs = { ...given, ownerToken: newOwnerToken() };
  const t = transportFor(inputs.host);
  const probe = { ...guestInputs(inputs, "warm-probe", "/d") };
  const { spec } = vmSpec(probe);
  // The guest is saved under the host's best for "auto" (what a start would try first), and resumed only under it.
  const accelerator = (await acceleratorsToTry({ ...vmHandle(t, vmLayout(inputs.host.workDir, "warm-probe")), spec }, probe))[0];
  const seal = inputs.cloudInit !== undefined ? await hostSeal(t, inputs.host.workDir) : undefined;
  const key = await keyOf(t, inputs, accelerator, seal);
  const layout = warmLayout(inputs.host.workDir, key);
  let meta = await readWarmMeta(t, layout);
  const reused = meta !== undefined || (await takeOrWait(t, layout, readinessMs(inputs) + BUILD_WAIT_MS)) === "built";
  meta = meta ?? (reused ? await readWarmMeta(t, layout) : await build(t, inputs, key, layout, accelerator, seal));
  if (!meta) throw new QemuError("NOT_FOUND", `${t.description}: ${layout.dir} vanished right after it was made`);
  await claimDisk(t, layout.disk, inputs.ownerToken, inputs.owner ?? {}, true);
  if (reused) progress(`WarmState ${layout.dir}: already saved on ${t.description}; reused`);
  return { id: `${connectionIdentity(inputs.host)}#warm:${key}`, outs: outputsOf(inputs, key, layout, meta, reused) };
}

/** Refresh: a state removed on the host (or never finished) drops from the stack; the next up makes it again. */
export async function read(id: string, props: WarmStateOutputs): Promise<ReadResult<WarmStateOutputs>> {
  const layout = warmLayoutAt(props.dir);
  const meta = await readWarmMeta(transportFor(props.host), layout);
  return meta ? { id, props: outputsOf(props, props.key, layout, meta, props.reused) } : {};
}

export async function update(_id: string, olds: WarmStateOutputs, news: WarmStateInputs): Promise<{ outs: WarmStateOutputs }> {
  return { outs: plain({ ...olds, ...news, ownerToken: olds.ownerToken }) };
}

/** Forgets this stack's use; the state stays for the next up (gc --images removes it once unused). */
export async function remove(_id: string, props: WarmStateOutputs): Promise<void> {
  const t = transportFor(props.host);
  if (!await pathExists(t, props.disk)) return;
  const others = await releaseDisk(t, props.disk, props.ownerToken, true);
  progress(`WarmState ${props.dir}: kept on ${t.description}${others.length ? `, used by ${others.join("; ")}` : "; `pulumi-qemu gc --images` removes it once no clone uses it"}`);
}

/**
 * gc --images: removes each WarmState of the working directory that no stack uses and whose
 * disk no VM holds and no clone reads; an unfinished one only when its build is over (no
 * builder QEMU of it runs). Returns the directories removed.
 */
export async function removeUnusedWarmStates(t: Transport, workDir: string, report: (m: string) => void): Promise<string[]> {
  const root = warmRoot(workDir);
  const list = await t.exec(["sh", "-c", '[ -d "$1" ] || exit 0; cd "$1" && for d in *; do [ -d "$d" ] && printf "%s\\n" "$d"; done; exit 0', "warm-list", root]);
  const removed: string[] = [];
  for (const key of list.stdout.split("\n").filter((k) => /^[0-9a-f]{32}$/.test(k))) {
    const layout = warmLayout(workDir, key);
    const finished = await readWarmMeta(t, layout);
    let kept: string | undefined;
    if (!finished) {
      kept = await abandoned(t, layout) ? undefined : "it is being built";
    } else {
      const owners = await sharedOwnersOf(t, layout.disk);
      kept = owners.length ? `used by ${owners.join("; ")}` : await reasonToKeep(t, workDir, layout.disk).catch((e: Error) => e.message);
    }
    if (kept !== undefined) {
      report(`WarmState ${layout.dir}: kept, ${kept}`);
      continue;
    }
    const base = await discard(t, layout);
    report(`WarmState ${layout.dir}: removed (${finished ? "nothing uses it" : "an unfinished build"})`);
    removed.push(layout.dir);
    await removeLeftFleetBase(t, workDir, base, report);
  }
  return removed;
}
