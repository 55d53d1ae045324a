/**
 * Vm: a QEMU instance whose desired state is enforced. Every method observes what is really on
 * the host first; create adopts an identical running instance and refuses a different one.
 */
import { sameData } from "../canonical";
import { InvalidArgumentError, QemuError, expectSuccess } from "../errors";
import { gatherFacts, probeHost } from "../host/capabilities";
import { qemuArgv } from "../qemu/argv";
import { transportFor, type Transport } from "../transport";
import { removeStateDir, resumeVm, startVm, stopVm, waitReady, writeCloudInitSeed } from "../vm/execute";
import { checkSocketPath, vmLayout, type VmLayout } from "../vm/layout";
import { observe, observedFrom, type Observed, type RunState } from "../vm/observe";
import { planVm, specChanges } from "../vm/plan";
import { oneHostAtATime } from "../vm/rollout";
import { checkAdoptable, findHandStarted, recordAdopted } from "../vm/adopt";
import { forwardedPorts, vmSpec, type PortForward, type VmInputs, type VmSpec } from "../vm/spec";
import { connectionIdentity } from "./connection";
import { progress } from "./progress";
import { containsUnknown, plain, type CheckResult, type CreateResult, type DiffResult, type ReadResult } from "./types";

export interface GuestConnection {
  host: string;
  port: number;
  user: string;
  privateKey?: string;
}

export interface VmOutputs extends VmInputs {
  spec: VmSpec;
  status: RunState;
  statusDetail: string;
  pid?: number;
  /** The accelerator the instance runs under (resolved from "auto" or the fallback list). */
  acceleratorInUse?: string;
  /** What "auto" resolved to when the instance was started. */
  acceleratorsStarted?: string[];
  /** Every host-port forward, normalized (protocol, host address). Not named `ports`: that input must not be shadowed. */
  forwardedPorts: PortForward[];
  stateDir: string;
  serialLog: string;
  guestConnection?: GuestConnection;
}

export async function check(_olds: unknown, news: VmInputs): Promise<CheckResult<VmInputs>> {
  const errors = containsUnknown(news) ? knownInputErrors(news) : completeInputErrors(news);
  return errors.length ? { failures: errors.map((e) => ({ property: e.property, reason: e.reason })) } : { inputs: news };
}

/** During preview: judge only what is known; unknown values (outputs of resources not made yet) pass for now. */
function knownInputErrors(news: VmInputs): InvalidArgumentError[] {
  const known = JSON.parse(JSON.stringify(news), (k, v) => (k !== "" && containsUnknown(v) ? undefined : v));
  return vmSpec({ host: { kind: "local", workDir: "/" }, name: "x", ...known }).errors.filter((e) => !containsUnknownAt(news, e.property));
}

function completeInputErrors(news: VmInputs): InvalidArgumentError[] {
  const { spec, errors } = vmSpec(news);
  if (errors.length) return errors;
  try {
    checkSocketPath(vmLayout(news.host.workDir!, spec.name), "Linux");
    return [];
  } catch (e) {
    if (e instanceof InvalidArgumentError) return [e];
    throw e;
  }
}

function containsUnknownAt(inputs: VmInputs, property: string): boolean {
  return containsUnknown((inputs as unknown as Record<string, unknown>)[property.split(/[.[]/)[0]]);
}

const NOT_IN_SPEC = ["readiness", "stopTimeouts", "guestUser", "guestPrivateKey", "guestSshPort", "rolloutGroup", "adopt"] as const;

export async function diff(_id: string, olds: VmOutputs, news: VmInputs): Promise<DiffResult> {
  const replaces = [
    containsUnknown(news.host) || connectionIdentity(olds.host) !== connectionIdentity(news.host) ? "host" : "",
    news.name !== olds.name ? "name" : "",
  ].filter(Boolean);
  const desired = news.state ?? "running";
  const restart = containsUnknown(news) ? ["(unknown until apply)"] : specChanges(olds.spec, vmSpec(news).spec);
  const stateDrift = desired !== ((olds.state ?? "running") as string) || (desired === "running" ? olds.status !== "running" : olds.status !== "stopped");
  const other = NOT_IN_SPEC.some((k) => !sameData(olds[k], news[k]));
  return { changes: replaces.length > 0 || restart.length > 0 || stateDrift || other, replaces, deleteBeforeReplace: true };
}

interface Context {
  transport: Transport;
  layout: VmLayout;
  spec: VmSpec;
  /** The seed image whose hash is in spec.cloudInit. */
  cloudInitImage?: Buffer;
}

async function context(inputs: VmInputs): Promise<Context> {
  const { spec, errors, cloudInitImage } = vmSpec(inputs);
  if (errors.length) throw errors[0];
  const layout = vmLayout(inputs.host.workDir!, spec.name);
  return { transport: transportFor(inputs.host), layout, spec, cloudInitImage };
}

/** A host's kernel name does not change while this process runs: asked once per connection. */
const kernelNames = new WeakMap<Transport, Promise<string>>();

function kernelName(transport: Transport): Promise<string> {
  if (transport.platform === "windows") return Promise.resolve("Windows");
  let name = kernelNames.get(transport);
  if (!name) {
    const uname = ["uname", "-s"];
    name = transport.exec(uname).then((r) => expectSuccess(transport.description, uname, r).stdout.trim());
    name.catch(() => kernelNames.delete(transport));
    kernelNames.set(transport, name);
  }
  return name;
}

/** "auto" becomes the host's recommended accelerator for the guest's architecture. */
async function resolveAccelerators(c: Context, inputs: VmInputs): Promise<{ accelerators: string[]; os: string }> {
  if (c.spec.accelerators[0] !== "auto") {
    // Only the OS is needed (for the socket-path limit): `uname -s`, not the whole facts script.
    return { accelerators: c.spec.accelerators, os: await kernelName(c.transport) };
  }
  const report = await probeHost(c.transport, { workDir: inputs.host.workDir!, guestArch: c.spec.arch });
  if (!report.recommended) {
    throw new QemuError("COMMAND_FAILED", `${c.transport.description}: no accelerator is usable for ${c.spec.arch} guests: ` +
      report.accelerators.map((a) => `${a.name}: ${a.reason}`).join("; "));
  }
  return { accelerators: [report.recommended], os: report.host.os };
}

/** What a start left: the accelerators it asked for and the instance as the start script saw it. */
interface StartOutcome { accelerators: string[]; observed: Observed }

/** Refuses what the host's platform cannot run, before anything is started. */
function checkPlatform(c: Context): void {
  if (c.transport.platform !== "windows") return;
  const index = c.spec.networks.findIndex((n) => n.type !== "user");
  if (index >= 0) {
    throw new InvalidArgumentError(`networks[${index}].type`, `${c.spec.networks[index].type} networks are not supported on Windows hosts (QEMU there has no bridge helper and tap needs the TAP-Windows driver); use "user" with port forwards`);
  }
}

/** An aarch64 guest that boots from disk needs UEFI firmware: the host's, found by the facts script. */
async function firmwareFor(c: Context, inputs: VmInputs): Promise<string | undefined> {
  if (c.spec.arch !== "aarch64" || c.spec.kernel || c.spec.extraArgs.some((a) => a === "-bios" || a.includes("pflash"))) return undefined;
  const facts = await gatherFacts(c.transport, inputs.host.workDir!);
  if (!facts.firmwareAarch64) {
    throw new QemuError("COMMAND_FAILED", `${c.transport.description}: VM ${c.spec.name} is an aarch64 guest that boots from disk, but the host has no UEFI firmware for it ` +
      "(looked for edk2-aarch64-code.fd beside QEMU, QEMU_EFI.fd and AAVMF_CODE.fd): install it (Debian: qemu-efi-aarch64; Homebrew's qemu ships it), or give `kernel`, or `-bios` in extraArgs");
  }
  return facts.firmwareAarch64;
}

async function start(c: Context, inputs: VmInputs): Promise<StartOutcome> {
  checkPlatform(c);
  const { accelerators, os } = await resolveAccelerators(c, inputs);
  checkSocketPath(c.layout, os);
  const argv = qemuArgv(c.spec, {
    qemuBinary: `qemu-system-${c.spec.arch}`, accelerators, layout: c.layout, platform: c.transport.platform, firmware: await firmwareFor(c, inputs),
  });
  if (c.spec.cloudInit && c.cloudInitImage) await writeCloudInitSeed(c.transport, c.layout, c.cloudInitImage, c.spec.cloudInit.sha256);
  const t0 = Date.now();
  progress(`VM ${c.spec.name}: starting QEMU on ${c.transport.description} (${accelerators.join(", ")})`);
  const started = await startVm(c.transport, c.layout, c.spec, argv);
  if (started.existing) {
    const differs = specChanges(started.existingSpec ?? ({} as VmSpec), c.spec);
    if (differs.length || !started.existingSpec) {
      throw new QemuError("COMMAND_FAILED", `${c.transport.description}: VM ${c.spec.name} is already running (pid ${started.pid}) with a different spec ` +
        `(${differs.join(", ") || "unreadable spec"}); not starting a second one. Delete it, or declare the same spec to adopt it`);
    }
  }
  if (started.existing) progress(`VM ${c.spec.name}: already running with this spec (pid ${started.pid}): adopted`);
  if (inputs.readiness) {
    progress(`VM ${c.spec.name}: pid ${started.pid}; waiting until it is ready`);
    await waitReady(c.transport, c.layout, c.spec, inputs.readiness, progress);
  }
  progress(`VM ${c.spec.name}: ${inputs.readiness ? "ready" : "started"} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // After a readiness wait the start-time view is old: look again.
  const observed = inputs.readiness ? await observeStarted(c, accelerators)
    : await observedFrom(c.transport, c.layout, started.observation, { needKvm: accelerators.length !== 1 });
  return { accelerators, observed };
}

function outputs(inputs: VmInputs, c: Context, observed: Observed, acceleratorsStarted?: string[]): VmOutputs {
  const ports = forwardedPorts(c.spec);
  const guestPort = inputs.guestSshPort ?? 22;
  const sshForward = ports.find((p) => p.guest === guestPort && p.protocol === "tcp");
  const host = inputs.host;
  const tried = acceleratorsStarted ?? [];
  const acceleratorInUse = observed.state === "stopped" ? undefined
    : tried.length === 1 ? tried[0] : observed.kvmEnabled ? "kvm" : tried.find((a) => a !== "kvm");
  return plain({
    ...inputs,
    spec: observed.startedSpec && observed.state !== "stopped" ? observed.startedSpec : c.spec,
    status: observed.state,
    statusDetail: observed.detail,
    pid: observed.pid,
    acceleratorInUse,
    acceleratorsStarted,
    forwardedPorts: ports,
    stateDir: c.layout.dir,
    serialLog: c.layout.serialLog,
    guestConnection: sshForward ? {
      host: host.kind === "ssh" ? host.host : "127.0.0.1",
      port: sshForward.host,
      user: inputs.guestUser ?? "root",
      privateKey: inputs.guestPrivateKey,
    } : undefined,
  });
}

/** QMP is asked about KVM only when QEMU itself chose among several accelerators (see outputs). */
function observeStarted(c: Context, tried: string[] | undefined): Promise<Observed> {
  return observe(c.transport, c.layout, c.spec.name, { needKvm: (tried ?? []).length !== 1 });
}

export async function create(inputs: VmInputs): Promise<CreateResult<VmOutputs>> {
  const c = await context(inputs);
  const running = (inputs.state ?? "running") === "running";
  const adopted = running && inputs.adopt ? await adopt(c) : undefined;
  const started = running && !adopted ? await start(c, inputs) : adopted;
  const observed = started?.observed ?? await observeStarted(c, undefined);
  return { id: `${connectionIdentity(inputs.host)}#vm:${c.spec.name}`, outs: outputs(inputs, c, observed, started?.accelerators) };
}

/** A QEMU started by hand with this name becomes this VM, not restarted; undefined when ours already runs. */
async function adopt(c: Context): Promise<StartOutcome | undefined> {
  if (c.transport.platform === "windows") throw new InvalidArgumentError("adopt", "is not supported on Windows hosts yet (it reads the process table the POSIX way)");
  if ((await observe(c.transport, c.layout, c.spec.name)).state !== "stopped") return undefined;
  const it = checkAdoptable(c.spec, await findHandStarted(c.transport, c.spec.name));
  progress(`VM ${c.spec.name}: adopting PID ${it.pid}, started by hand (${it.qmpSocket ? `QMP at ${it.qmpSocket}` : "no QMP socket: only signals can stop it"})`);
  const accelerators = it.accelerators.length ? it.accelerators : undefined;
  const observed = await observedFrom(c.transport, c.layout, await recordAdopted(c.transport, c.layout, c.spec, it), { needKvm: accelerators?.length !== 1 });
  return { accelerators: accelerators ?? [], observed };
}

/** Refresh: what runs now. A dead VM is reported stopped (the next up starts it), never an error. */
export async function read(id: string, props: VmOutputs): Promise<ReadResult<VmOutputs>> {
  const c = await context(props);
  return { id, props: outputs(props, c, await observeStarted(c, props.acceleratorsStarted), props.acceleratorsStarted) };
}

export async function update(_id: string, olds: VmOutputs, news: VmInputs): Promise<{ outs: VmOutputs }> {
  const c = await context(news);
  const observed = await observe(c.transport, c.layout, c.spec.name);
  const action = planVm(news.state ?? "running", c.spec, observed);
  let accelerators = olds.acceleratorsStarted;
  let after: Observed | undefined;
  const act = async () => {
    if (action.kind === "stop" || action.kind === "restart") await stopVm(c.transport, c.layout, c.spec.name, news.stopTimeouts, progress);
    if (action.kind === "start" || action.kind === "restart") ({ accelerators, observed: after } = await start(c, news));
    if (action.kind === "resume") await resumeVm(c.transport, c.layout, c.spec.name);
  };
  if (action.kind === "restart" && news.rolloutGroup) {
    progress(`VM ${c.spec.name}: restart in rollout group ${news.rolloutGroup}, one host at a time`);
    await oneHostAtATime(news.rolloutGroup, connectionIdentity(news.host), act,
      (active) => progress(`VM ${c.spec.name}: waiting until the restarts on ${active} have ended`));
  } else {
    await act();
  }
  return { outs: outputs(news, c, after ?? await observeStarted(c, accelerators), accelerators) };
}

/** Stops the VM (the whole ladder) and removes its state directory; disks stay. */
export async function remove(_id: string, props: VmOutputs): Promise<void> {
  const c = await context(props);
  await stopVm(c.transport, c.layout, c.spec.name, props.stopTimeouts, progress);
  await removeStateDir(c.transport, c.layout, c.spec.name);
}
