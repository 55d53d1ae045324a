/**
 * Starting a Vm: its accelerators tried in order, the running guest as the final probe. An
 * accelerator that QEMU cannot initialize, or under which the guest stops (internal-error,
 * guest-panicked) during the readiness wait, is given up: that QEMU is stopped, a run-time
 * failure is recorded in the host's probe cache (so the next report and every later "auto" say
 * so), and the next accelerator is tried. Any failed start leaves no QEMU of the VM running.
 */
import { hostOps } from "../platform";
import type { VmHandle } from "../vm/handle";
import { InvalidArgumentError, QemuError, expectSuccess } from "../errors";
import { gatherFacts, probeHost, recordGuestFailure } from "../host/capabilities";
import { checkJoin, linkMember, plugIn } from "../network/switch";
import { usableInOrder } from "../host/accelerators/detectors";
import { normalizeArch, type HostFacts } from "../host/facts";
import type { AcceleratorName } from "../host/accelerators/types";
import { appendExposure, qemuArgv, qemuReadConfig } from "../vm/argv";
import type { Transport } from "../transport";
import { acceleratorFailure, describeFailure, type AcceleratorFailure } from "../vm/acceleratorFallback";
import { startVm, stopVm, waitReady, writeCloudInitSeed, writePrivateFiles, type Started } from "../vm/execute";
import { secretsToFiles } from "../qemu/secretObjects";
import { checkSocketPath } from "../layout";
import { describeOwner, ownerRecordText } from "../vm/owner";
import { memoryLimitPercent, releaseCapacity, reserveCapacity } from "../vm/capacity";
import { durationMs } from "../validate";
import { observe, observedFrom, type Observed } from "../vm/observe";
import { planFound } from "../vm/plan";
import { forwardedPorts, type VmInputs, type VmSpec } from "../vm/spec";
import { progress } from "../progress";
import { overlaysOf, unwrittenCloneProblem } from "../disks/images";
import { warmLayoutAt, type WarmLayout } from "../layout";
import { readWarmMeta, resumeDevices, warmSeedProblem, type WarmMeta } from "../vm/warm";
import { reidentify } from "../vm/reidentify";

/** A VM being reconciled: its handle (name: its state directory's), and its spec. */
export interface Context extends VmHandle {
  spec: VmSpec;
  /** The seed image whose hash is in spec.cloudInit. */
  cloudInitImage?: Buffer;
  /** The seed's instance-id: a VM resumed from a WarmState must carry the saved guest's. */
  cloudInitInstanceId?: string;
  /** The WarmState this start builds (its guest's RAM goes to the state's memory file): a WarmState's builder only. */
  warmBuild?: WarmLayout;
}

/** A start that resumes a WarmState's saved guest instead of booting. */
interface WarmResume {
  layout: WarmLayout;
  meta: WarmMeta;
}

/** What a start left: the accelerator it runs under, the instance as last seen, and what failed before. */
export interface StartOutcome {
  accelerators: string[];
  observed: Observed;
  fallbacks: AcceleratorFailure[];
}

/** The host's facts, gathered at most once per operation (a Context is one operation's). */
const factsOf = new WeakMap<Context, Promise<HostFacts>>();

function hostFacts(c: Context, workDir: string): Promise<HostFacts> {
  let facts = factsOf.get(c);
  if (!facts) {
    facts = gatherFacts(c.transport, workDir);
    facts.catch(() => factsOf.delete(c));
    factsOf.set(c, facts);
  }
  return facts;
}

/** A host's kernel name does not change while this process runs: asked once per connection. */
const kernelNames = new WeakMap<Transport, Promise<string>>();

function kernelName(transport: Transport): Promise<string> {
  const fixed = hostOps(transport).kernelName;
  if (fixed) return Promise.resolve(fixed);
  let name = kernelNames.get(transport);
  if (!name) {
    const uname = ["uname", "-s"];
    name = transport.exec(uname).then((r) => expectSuccess(transport.description, uname, r).stdout.trim());
    name.catch(() => kernelNames.delete(transport));
    kernelNames.set(transport, name);
  }
  return name;
}

/** The accelerators to try, in order: the declared list, or for "auto" every usable one for the guest's architecture, best first. */
async function candidates(c: Context, inputs: VmInputs): Promise<{ accelerators: string[]; os: string }> {
  if (c.spec.accelerators[0] !== "auto") {
    // Only the OS is needed (for the socket-path limit): `uname -s`, not the whole facts script.
    return { accelerators: c.spec.accelerators, os: await kernelName(c.transport) };
  }
  const report = await probeHost(c.transport, { workDir: inputs.host.workDir, guestArch: c.spec.arch, facts: await hostFacts(c, inputs.host.workDir) });
  const accelerators = usableInOrder(report.accelerators, normalizeArch(report.host.arch), report.guestArch);
  if (!accelerators.length) {
    throw new QemuError("UNSUPPORTED", `${c.transport.description}: no accelerator is usable for ${c.spec.arch} guests: ` +
      report.accelerators.map((a) => `${a.name}: ${a.reason}`).join("; "));
  }
  return { accelerators, os: report.host.os };
}

/** The accelerators a start of this VM would try, in order (for "auto" the host's probe may run); nothing of the VM is touched. */
export async function acceleratorsToTry(c: Context, inputs: VmInputs): Promise<string[]> {
  return (await candidates(c, inputs)).accelerators;
}

/** Refuses what the host's platform cannot run, before anything is started. */
function checkPlatform(c: Context): void {
  const ops = hostOps(c.transport);
  if (c.spec.warm && !ops.unixSockets) {
    throw new InvalidArgumentError("warmFrom", `is not supported on ${ops.name} hosts yet: a resumed guest is made itself through the guest agent, whose channel is a Unix socket`);
  }
  if (c.spec.guestAgent && !ops.unixSockets) {
    throw new InvalidArgumentError("guestAgent", `is not supported on ${ops.name} hosts yet: the agent's channel is a Unix socket, which QEMU there cannot make`);
  }
  if (!ops.networkTypes) return;
  const index = c.spec.networks.findIndex((n) => !ops.networkTypes!.includes(n.type));
  if (index >= 0) {
    throw new InvalidArgumentError(`networks[${index}].type`, `${c.spec.networks[index].type} networks are not supported on ${ops.name} hosts (${ops.networkTypesReason}); use "user" with port forwards`);
  }
}

/** An aarch64 guest that boots from disk needs UEFI firmware: the host's, found by the facts script. */
async function firmwareFor(c: Context, inputs: VmInputs): Promise<string | undefined> {
  if (c.spec.arch !== "aarch64" || c.spec.kernel || c.spec.extraArgs.some((a) => a === "-bios" || a.includes("pflash"))) return undefined;
  const facts = await hostFacts(c, inputs.host.workDir);
  if (!facts.firmwareAarch64) {
    throw new QemuError("UNSUPPORTED", `${c.transport.description}: VM ${c.spec.name} is an aarch64 guest that boots from disk, but the host has no UEFI firmware for it ` +
      "(looked for edk2-aarch64-code.fd beside QEMU, QEMU_EFI.fd and AAVMF_CODE.fd): install it (Debian: qemu-efi-aarch64; Homebrew's qemu ships it), or give `kernel`, or `-bios` in extraArgs");
  }
  return facts.firmwareAarch64;
}

/**
 * The step's result; when it fails, whatever instance of the VM it left is stopped first (no
 * powerdown wait: a guest that failed does not listen), and the error says if that failed too.
 */
async function orDiscard<T>(c: Context, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (e) {
    try {
      await stopVm(c, { powerdownMs: 0, quitMs: 3000 }, progress);
    } catch (stopError) {
      if (e instanceof Error) e.message += `; stopping what it left failed too: ${(stopError as Error).message}`;
    }
    throw e;
  }
}

/**
 * One start under one accelerator, through readiness. An instance of ours whose guest failed is
 * stopped, not adopted; whatever this start ran is stopped again when it fails.
 */
async function startUnder(c: Context, inputs: VmInputs, accelerator: string, firmware: string | undefined, creating: boolean, warm?: WarmResume): Promise<Observed> {
  const warmMemory = c.warmBuild ? { path: c.warmBuild.memory, share: true, incoming: false }
    : warm ? { path: warm.layout.memory, share: false, incoming: true } : undefined;
  const argv = qemuArgv(c.spec, { qemuBinary: `qemu-system-${c.spec.arch}`, accelerators: [accelerator], layout: c.layout, platform: c.transport.platform, firmware, workDir: inputs.host.workDir, warmMemory });
  const t0 = Date.now();
  progress(`VM ${c.spec.name}: starting QEMU on ${c.transport.description} (${accelerator})`);
  // What to do with an instance the start script found already running (undefined: it started one).
  const judge = async (s: Started) => (s.existing ? planFound(await observedFrom(c, s.observation), c.spec, creating, !!inputs.adopt) : undefined);
  let started = await orDiscard(c, startVm(c, c.spec, argv));
  let found = await judge(started);
  if (found?.kind === "replace") {
    progress(`VM ${c.spec.name}: an instance (pid ${started.pid}) is there but its guest has failed: stopping it and starting anew`);
    await stopVm(c, { powerdownMs: 0 }, progress);
    started = await orDiscard(c, startVm(c, c.spec, argv));
    found = await judge(started);
  }
  if (found?.kind === "refuse" && found.property === "spec" || found?.kind === "replace") {
    throw new QemuError("CONFLICT", `${c.transport.description}: VM ${c.spec.name} is already running (pid ${started.pid}) with a different spec ` +
      `(${found.kind === "refuse" ? found.because.join(", ") : "state"}); not starting a second one. Delete it, or declare the same spec to adopt it`);
  }
  if (found?.kind === "refuse") {
    // Thrown outside orDiscard: the instance is another's, and is left running.
    throw new InvalidArgumentError("name", `${c.transport.description}: VM ${c.spec.name} already runs in ${c.layout.dir} (pid ${started.pid}), and this create did not start it: ` +
      "another Vm resource with this name manages it on this host (on a host whose file system ignores case, a name that differs only in case is the same), " +
      "or the state of an earlier create was lost. Not sharing it: give this Vm another name, or set adopt: true to take it over");
  }
  if (found?.kind === "keep") progress(`VM ${c.spec.name}: already running with this spec (pid ${started.pid}): adopted`);
  const resumed = warm && !found;
  if (resumed) {
    await orDiscard(c, resumeDevices(c, warm.layout.state));
    await orDiscard(c, reidentify(c, c.spec, warm.meta.macs));
  }
  for (const n of c.spec.networks) {
    if (n.type === "private") await orDiscard(c, plugIn(c.transport, inputs.host.workDir, n.network, n.address));
  }
  // A resumed guest booted long ago: what its serial console or cloud-init said then was the WarmState's readiness.
  const readiness = resumed && inputs.readiness ? { ...inputs.readiness, serialPattern: undefined, cloudInit: undefined } : inputs.readiness;
  if (readiness) {
    progress(`VM ${c.spec.name}: pid ${started.pid}; waiting until it is ready`);
    await orDiscard(c, waitReady(c, c.spec, readiness, progress));
  }
  progress(`VM ${c.spec.name}: ${resumed ? "resumed from its WarmState, made its own and " : ""}${readiness ? "ready" : "started"} under ${accelerator} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // After a readiness wait (or a resume) the start-time view is old: look again.
  return readiness || resumed ? observe(c) : observedFrom(c, started.observation);
}

export interface Preflight {
  accelerators: string[];
  firmware?: string;
}

/**
 * Everything that can refuse a start, touching nothing of the VM (for "auto" the host's probe
 * may run and fill its cache): the platform, the accelerators, the socket paths, firmware, and
 * each private network's switch and address. An update that restarts the VM runs it before the
 * stop, so a refusal leaves the running instance as it was.
 */
export async function preflight(c: Context, inputs: VmInputs): Promise<Preflight> {
  checkPlatform(c);
  if (forwardedPorts(c.spec).some((p) => p.host === 0)) throw new Error(`VM ${c.spec.name}: a forward without a host port reached the start unallocated`);
  const { accelerators, os } = await candidates(c, inputs);
  checkSocketPath(c.layout, os);
  const firmware = await firmwareFor(c, inputs);
  await refuseWritableBases(c, inputs.host.workDir);
  for (const [i, n] of c.spec.networks.entries()) {
    if (n.type === "private") await checkJoin(c.transport, inputs.host.workDir, c.layout, c.spec.name, n.network, n.address, `networks[${i}].address`);
  }
  // Last: the memory stays reserved for this VM (its own earlier entry replaced) until its QEMU ends, or the start fails.
  await reserveCapacity(c.transport, c.layout, c.spec.name, c.spec.memoryBytes, c.spec.cpus, `${inputs.owner ? describeOwner(inputs.owner) : "an owner with no name recorded"} (VM ${c.spec.name}, ${c.layout.dir})`, memoryLimitPercent(inputs.host.memoryOvercommit));
  return { accelerators, firmware };
}

/** A disk the VM would write must not be the backing file of another image: the clone would read changed data. */
async function refuseWritableBases(c: Context, workDir: string): Promise<void> {
  for (const [k, d] of c.spec.disks.entries()) {
    if (d.readOnly) continue;
    const clones = await overlaysOf(c.transport, workDir, d.path, "starting a VM on");
    if (clones.length) {
      throw new InvalidArgumentError(`disks[${k}]`, `${d.path} is the backing file of ${clones.join(", ")}: VM ${c.spec.name} would write it under them; attach it with readOnly: true, or delete those clones first`);
    }
  }
}

/** Writes the owner record: the state directory is this resource's from now on (a private file, never a command line). */
export async function claim(c: Context, inputs: VmInputs, created?: string): Promise<void> {
  if (!inputs.ownerToken) return;
  const leaseMs = inputs.expiresAfter === undefined ? undefined : durationMs(inputs.expiresAfter, "expiresAfter");
  await writePrivateFiles(c, [{ path: c.layout.owner, data: ownerRecordText(inputs.ownerToken, inputs.owner ?? {}, new Date(), leaseMs, created) }]);
}

/**
 * Starts the VM under the first of its accelerators that runs it. On any failure nothing of
 * this start runs on: the instance is stopped before the error (or the fallback) goes on.
 * `creating`: an instance already there is another resource's (refused) unless the inputs say adopt.
 */
export async function start(c: Context, inputs: VmInputs, creating = false, checked?: Preflight): Promise<StartOutcome> {
  const ready = checked ?? await preflight(c, inputs);
  try {
    return await startChecked(c, inputs, creating, ready);
  } catch (e) {
    await releaseCapacity(c.transport, c.layout).catch(() => undefined);
    throw e;
  }
}

/**
 * A create of a VM with warmFrom resumes the saved guest, under the accelerator it was saved
 * under, when its first disk is still the unwritten clone of the state's; a later start, or a
 * disk written since, boots. An unfinished or gone state refuses the create: nothing is started.
 */
async function warmResume(c: Context, creating: boolean): Promise<WarmResume | undefined> {
  if (!c.spec.warm || !creating || c.warmBuild) return undefined;
  const layout = warmLayoutAt(c.spec.warm);
  const meta = await readWarmMeta(c.transport, layout);
  if (!meta) throw new QemuError("NOT_FOUND", `${c.transport.description}: VM ${c.spec.name}: the WarmState at ${layout.dir} is unfinished or gone (no ${layout.meta}); nothing was started`);
  if (meta.memoryBytes !== c.spec.memoryBytes) {
    throw new InvalidArgumentError("memory", `is ${c.spec.memoryBytes / 2 ** 20} MiB, but the WarmState at ${layout.dir} saved a guest of ${meta.memoryBytes / 2 ** 20} MiB`);
  }
  const seedProblem = warmSeedProblem(meta.instanceId, c.cloudInitInstanceId);
  if (seedProblem) throw new InvalidArgumentError(seedProblem.property, `${seedProblem.reason} (the WarmState at ${layout.dir})`);
  const problem = await unwrittenCloneProblem(c.transport, c.spec.disks[0].path, layout.disk);
  if (problem) {
    progress(`VM ${c.spec.name}: ${problem}: it boots instead of resuming the saved guest`);
    return undefined;
  }
  return { layout, meta };
}

async function startChecked(c: Context, inputs: VmInputs, creating: boolean, { accelerators, firmware }: Preflight): Promise<StartOutcome> {
  // A create owns its directory before anything is in it; an update claims one an older release made once it has succeeded.
  if (creating) await claim(c, inputs);
  if (c.spec.cloudInit && c.cloudInitImage) await writeCloudInitSeed(c, c.cloudInitImage, c.spec.cloudInit);
  const config = qemuReadConfig(c.spec);
  const configFile = config === undefined ? [] : [{ path: c.layout.readConfig, data: config }];
  await writePrivateFiles(c, [...configFile, ...secretsToFiles(c.spec.extraArgs, c.layout.dir).files]);
  const exposure = appendExposure(c.spec);
  if (exposure) progress(`VM ${c.spec.name}: ${exposure}`);
  for (const n of c.spec.networks) {
    if (n.type !== "private") continue;
    const left = await linkMember(c.transport, inputs.host.workDir, c.layout, c.spec.name, n.network, n.address);
    if (left.length) progress(`VM ${c.spec.name}: left its old address ${left.join(", ")} on network ${n.network}`);
  }
  let warm = await warmResume(c, creating);
  if (warm && !accelerators.includes(warm.meta.accelerator)) {
    progress(`VM ${c.spec.name}: its WarmState was saved under ${warm.meta.accelerator}, which is not among ${accelerators.join(", ")}: it boots instead`);
    warm = undefined;
  }
  if (warm) accelerators = [warm.meta.accelerator];
  const fallbacks: AcceleratorFailure[] = [];
  // Recorded beside the next start, not before it: the facts a record needs cost a round trip.
  const records: Array<Promise<void>> = [];
  for (const [i, accelerator] of accelerators.entries()) {
    let observed: Observed;
    try {
      observed = await startUnder(c, inputs, accelerator, firmware, creating, warm);
    } catch (e) {
      const failure = acceleratorFailure(accelerator, e);
      if (!failure) throw e;
      fallbacks.push(failure);
      // A guest stopped by its accelerator proves it; a guest that only never got ready, once another accelerator runs it.
      if (failure.stage === "run") records.push(remember(c, inputs, failure, failure.words));
      const next = accelerators[i + 1];
      if (!next) throw await Promise.all(records).then(() => finalError(c, inputs, fallbacks, e as Error));
      progress(`VM ${c.spec.name}: ${describeFailure(failure)}; falling back to ${next}`);
      continue;
    }
    for (const f of fallbacks.filter((f) => f.stage === "ready")) records.push(remember(c, inputs, f, `${f.words}; it got ready under ${accelerator}`));
    await Promise.all(records);
    return { accelerators: [accelerator], observed, fallbacks };
  }
  throw new Error("unreachable: the loop returns or throws");
}

/** Records a hardware accelerator's run-time failure in the host's probe cache; a failure to record only loses the memory of it. */
async function remember(c: Context, inputs: VmInputs, failure: AcceleratorFailure, reason: string): Promise<void> {
  if (failure.accelerator === "tcg") return;
  const facts = await hostFacts(c, inputs.host.workDir).catch(() => undefined);
  await recordGuestFailure(c.transport, inputs.host.workDir, failure.accelerator as AcceleratorName, c.spec.name, reason, facts).catch(() => undefined);
}

/** Every accelerator failed: one line each, where "auto" would have gone for a single named one, then the last error in full. */
async function finalError(c: Context, inputs: VmInputs, fallbacks: AcceleratorFailure[], last: Error): Promise<QemuError> {
  let hint = "";
  if (c.spec.accelerators[0] !== "auto" && c.spec.accelerators.length === 1) {
    const report = await hostFacts(c, inputs.host.workDir)
      .then((facts) => probeHost(c.transport, { workDir: inputs.host.workDir, guestArch: c.spec.arch, facts })).catch(() => undefined);
    const next = report && usableInOrder(report.accelerators, normalizeArch(report.host.arch), report.guestArch).find((a) => a !== fallbacks[0].accelerator);
    hint = next ? `; accelerator "auto" would have fallen back to ${next}` : "";
  }
  return new QemuError("COMMAND_FAILED", `${c.transport.description}: VM ${c.spec.name} did not run under ${fallbacks.map((f) => f.accelerator).join(" or ")}: ` +
    `${fallbacks.map(describeFailure).join("; ")}${hint}.\n${last.message}`);
}
