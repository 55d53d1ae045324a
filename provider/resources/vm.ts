/**
 * Vm: a QEMU instance whose desired state is enforced. Every method observes what is really on
 * the host first; create refuses an instance already running (another resource's, or one whose
 * state was lost) unless `adopt` says to take it over, and never takes a different one.
 */
import { randomBytes } from "crypto";
import { vmHandle } from "../vm/handle";
import { sameData } from "../canonical";
import { InvalidArgumentError } from "../errors";
import { transportFor } from "../transport";
import { describeFailure, type AcceleratorFailure } from "../vm/acceleratorFallback";
import { removeStateDir, resumeVm, stopVm } from "../vm/execute";
import { checkSocketPath, checkUnixSocketPath, memberSocket, stateDirName, vmLayout } from "../layout";
import { allocateAutoPorts, unallocated, withAutoPorts } from "../vm/ports";
import { newOwnerToken, ownedName, ownedNameForChecks, ownedOrRefused, parseOwnerRecord, type OwnerVerdict } from "../vm/owner";
import { observe, observedFrom, type Observed, type RunState } from "../vm/observe";
import { describeVmAction, planCreate, planVm, specChanges } from "../vm/plan";
import { oneHostAtATime } from "../vm/rollout";
import { checkAdoptable, findHandStarted, recordAdopted } from "../vm/adopt";
import { forwardAddressFromClient, forwardedPorts, instanceIdKey, SEED_KEY_V2, vmSpec, type PortForward, type VmInputs, type VmSpec, type VmState } from "../vm/spec";
import { connectionIdentity, hostInDiff } from "./connection";
import { hostOps, hostOpsOf } from "../platform";
import { progress } from "../progress";
import { guestInfo, withVmGuestAgent, type GuestInfo, type GuestInterface } from "../vm/guestAgent";
import { claim, preflight, start, type Context, type StartOutcome } from "../lifecycle/vmStart";
import { containsUnknown, plain, type CheckResult, type CreateResult, type DiffResult, type ReadResult, recordedProviderChanged } from "./types";

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
  /** The accelerators that failed at the last start before acceleratorInUse ran the VM, and why. */
  acceleratorFallbacks?: string[];
  /** Every host-port forward, normalized (protocol, host address). Not named `ports`: that input must not be shadowed. */
  forwardedPorts: PortForward[];
  stateDir: string;
  serialLog: string;
  guestConnection?: GuestConnection;
  /** With guestAgent, while it runs and its agent answers: the guest's OS and interfaces as the agent reports them. */
  guestOs?: string;
  guestInterfaces?: GuestInterface[];
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
    hostOpsOf(news.host).checkFileName(spec.name, "name");
    const layout = vmLayout(news.host.workDir, ownedNameForChecks(spec.name));
    checkSocketPath(layout, "Linux");
    spec.networks.forEach((n, i) => {
      if (n.type === "private") checkUnixSocketPath(memberSocket(layout, n.network), "the VM's socket on the network", "Linux", `networks[${i}].network`, "VM or network name");
    });
    return [];
  } catch (e) {
    if (e instanceof InvalidArgumentError) return [e];
    throw e;
  }
}

function containsUnknownAt(inputs: VmInputs, property: string): boolean {
  return containsUnknown((inputs as unknown as Record<string, unknown>)[property.split(/[.[]/)[0]]);
}

const NOT_IN_SPEC = ["readiness", "stopTimeouts", "guestUser", "guestPrivateKey", "guestSshPort", "rolloutGroup", "adopt", "expiresAfter"] as const;

export async function diff(_id: string, olds: VmOutputs, given: VmInputs): Promise<DiffResult> {
  const host = hostInDiff(olds.host, given.host, given.hostId);
  const news = { ...given, host: host.host, seedKey: olds.seedKey, ownerToken: olds.ownerToken, autoPorts: olds.autoPorts };
  const replaces = [
    host.replaced ? "host" : "",
    news.name !== olds.name ? "name" : "",
  ].filter(Boolean);
  const desired = news.state ?? "running";
  // The new spec once, for the diff and the preview's line; unknown inputs leave it undecided.
  const spec = containsUnknown(news) ? undefined : vmSpec(withAutoPorts(news, news.autoPorts)).spec;
  const restart = spec ? specChanges(olds.spec, spec) : ["(unknown until apply)"];
  const statusDrift = desired === "running" ? olds.status !== "running" : desired === "stopped" ? olds.status !== "stopped" : false;
  const stateDrift = desired !== ((olds.state ?? "running") as string) || statusDrift;
  const other = NOT_IN_SPEC.some((k) => !sameData(olds[k], news[k])) || host.credentials;
  if (!replaces.length) sayWhatUpdateDoes(olds, spec, desired);
  return { changes: replaces.length > 0 || restart.length > 0 || stateDrift || other || recordedProviderChanged(olds, news), replaces, deleteBeforeReplace: true };
}

/**
 * The preview's line for a VM an update will start, stop, resume or restart (the engine shows
 * only which inputs changed): planned from the recorded run state, as the update will plan it
 * from the observed one (a `preview --refresh` records it first).
 */
function sayWhatUpdateDoes(olds: VmOutputs, spec: VmSpec | undefined, desired: VmState): void {
  const name = olds.spec?.name ?? olds.name;
  if (!spec) return progress(`VM ${name}: the update may restart it (some inputs are known only when it runs)`);
  const status = (["running", "paused", "stopped", "failed"] as const).find((s) => s === olds.status) ?? "stopped";
  const what = describeVmAction(planVm(desired, spec, { state: status, startedSpec: olds.spec }));
  if (what) progress(`VM ${name}: the update ${what}`);
}

/** `stateName`: the name on the host the state recorded (see VmLayout.name); by default the one the inputs' owner token gives. */
async function context(inputs: VmInputs, stateName?: string): Promise<Context> {
  const { spec, errors, cloudInitImage, cloudInitInstanceId } = vmSpec(withAutoPorts(inputs, inputs.autoPorts));
  if (errors.length) throw errors[0];
  const layout = vmLayout(inputs.host.workDir, stateName ?? nameOnHost(spec.name, inputs.ownerToken));
  return { ...vmHandle(transportFor(inputs.host), layout), spec, cloudInitImage, cloudInitInstanceId };
}

/** The inputs' forwards without a host port get theirs from the host's ledger (ports.ts), held by the VM's state directory; the context follows. */
async function withAllocatedPorts(c: Context, inputs: VmInputs): Promise<{ c: Context; inputs: VmInputs }> {
  if (!unallocated(inputs, inputs.autoPorts).length) return { c, inputs };
  const allocated = { ...inputs, autoPorts: await allocateAutoPorts(c.transport, inputs, inputs.autoPorts ?? {}, c.layout.dir) };
  return { c: await context(allocated, c.layout.name), inputs: allocated };
}

function nameOnHost(name: string, ownerToken: string | undefined): string {
  return ownerToken ? ownedName(name, ownerToken) : name;
}

/** The name on the host a VM's state recorded: its state directory's (a VM an older release made has its own name there). */
function recordedStateName(props: Pick<VmOutputs, "stateDir">): string | undefined {
  return props.stateDir ? stateDirName(props.stateDir) : undefined;
}

/** Whose the state directory is; another owner's is refused, naming it, before anything of it is touched. */
function vmOwned(c: Context, observed: Observed, ownerToken: string | undefined): OwnerVerdict {
  return ownedOrRefused(observed.ownerRecord, ownerToken, `${c.transport.description}: VM ${c.spec.name}: its state directory ${c.layout.dir}`,
    "nothing of it (nor its QEMU) was touched. Give this Vm another name or working directory, or ask that owner to destroy theirs");
}

/** What the guest agent reports of a running VM that has one; nothing when it does not answer within 5 s. */
async function guestReport(c: Context, observed: Observed): Promise<GuestInfo | undefined> {
  if (observed.state !== "running" || !(observed.startedSpec ?? c.spec).guestAgent) return undefined;
  return withVmGuestAgent(c, 5000, guestInfo).catch(() => undefined);
}

async function outputs(inputs: VmInputs, c: Context, observed: Observed, acceleratorsStarted?: string[], fallbacks?: string[]): Promise<VmOutputs> {
  const guest = await guestReport(c, observed);
  const ports = forwardedPorts(c.spec);
  const guestPort = inputs.guestSshPort ?? 22;
  const sshForward = ports.find((p) => p.guest === guestPort && p.protocol === "tcp");
  const host = inputs.host;
  const guestAddress = sshForward && forwardAddressFromClient(host, sshForward);
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
    ...(fallbacks ? { acceleratorFallbacks: fallbacks } : {}),
    forwardedPorts: ports,
    stateDir: c.layout.dir,
    serialLog: c.layout.serialLog,
    guestConnection: sshForward && guestAddress ? {
      host: guestAddress,
      port: sshForward.host,
      user: inputs.guestUser ?? "root",
      privateKey: inputs.guestPrivateKey,
    } : undefined,
    guestOs: guest?.os,
    guestInterfaces: guest?.interfaces,
  });
}

function newSeedKey(): string {
  return `${SEED_KEY_V2}${randomBytes(32).toString("hex")}`;
}

/**
 * The recorded seed key, while it still makes the same seed: a VM an older release made keeps no
 * key (a plain seed hash) or a key that leaves its instance-id plain, so that an upgrade restarts
 * nothing; once its seed changes (a restart anyway) it gets a key of this release.
 */
export function seedKeyFor(olds: VmOutputs, news: VmInputs): string | undefined {
  if (olds.seedKey && instanceIdKey(olds.seedKey)) return olds.seedKey;
  const recorded = olds.spec?.cloudInit;
  const same = recorded !== undefined && JSON.stringify(vmSpec({ ...news, seedKey: olds.seedKey }).spec.cloudInit) === JSON.stringify(recorded);
  return same ? olds.seedKey : newSeedKey();
}

/** QMP is asked about KVM only when QEMU itself chose among several accelerators (see outputs). */
function observeStarted(c: Context, tried: string[] | undefined): Promise<Observed> {
  return observe(c, { needKvm: (tried ?? []).length !== 1 });
}

export async function create(given: VmInputs): Promise<CreateResult<VmOutputs>> {
  const first = { ...given, seedKey: newSeedKey(), ownerToken: newOwnerToken() };
  const unowned = await context(first);
  vmOwned(unowned, await observe(vmHandle(unowned.transport, unowned.layout)), first.ownerToken);
  const { c, inputs } = await withAllocatedPorts(unowned, first);
  const action = planCreate(inputs.state ?? "running", !!inputs.adopt);
  // adopt finds nothing to take when our own instance already runs: then the start keeps it.
  const adopted = action.kind === "adopt" ? await adopt(c, inputs) : undefined;
  const started = action.kind !== "none" && !adopted ? await start(c, inputs, true).catch((e) => forgetFailedCreate(c, e)) : adopted;
  const observed = started?.observed ?? await observeStarted(c, undefined);
  return { id: `${connectionIdentity(inputs.host)}#vm:${c.spec.name}`, outs: await outputs(inputs, c, observed, started?.accelerators, started?.fallbacks.map(describeFailure)) };
}

/**
 * A create that failed leaves nothing for a destroy to find: the start stopped its QEMU, and the
 * state directory goes (it refuses while a QEMU of the VM runs, as when another one was there first).
 */
async function forgetFailedCreate(c: Context, error: unknown): Promise<never> {
  await removeStateDir(c).catch(() => undefined);
  throw error;
}

/** A QEMU started by hand with this name becomes this VM, not restarted; undefined when ours already runs. */
async function adopt(c: Context, inputs: VmInputs): Promise<StartOutcome | undefined> {
  if (!hostOps(c.transport).adopt) throw new InvalidArgumentError("adopt", `is not supported on ${hostOps(c.transport).name} hosts yet (it reads the process table the POSIX way)`);
  if ((await observe(c)).state !== "stopped") return undefined;
  const it = checkAdoptable(c.spec, await findHandStarted(c.transport, c.spec.name));
  await claim(c, inputs);
  progress(`VM ${c.spec.name}: adopting PID ${it.pid}, started by hand (${it.qmpSocket ? `QMP at ${it.qmpSocket}` : "no QMP socket: only signals can stop it"})`);
  const accelerators = it.accelerators.length ? it.accelerators : undefined;
  const observed = await observedFrom(c, await recordAdopted(c.transport, c.layout, c.spec, it), { needKvm: accelerators?.length !== 1 });
  return { accelerators: accelerators ?? [], observed, fallbacks: [] };
}

/**
 * For read and delete: the VM as the state recorded it (its started spec names it; the host says
 * how to reach it). Today's input checks are not applied: a stricter release must not strand a
 * VM that an older one created.
 */
function recordedContext(props: VmOutputs): Context {
  const spec = props.spec?.name ? props.spec : vmSpec(props).spec;
  return { ...vmHandle(transportFor(props.host), vmLayout(props.host.workDir, recordedStateName(props) ?? spec.name)), spec };
}

/** Refresh: what runs now. A dead VM is reported stopped (the next up starts it), never an error. */
export async function read(id: string, props: VmOutputs): Promise<ReadResult<VmOutputs>> {
  const c = recordedContext(props);
  const observed = await observeStarted(c, props.acceleratorsStarted);
  vmOwned(c, observed, props.ownerToken);
  return { id, props: await outputs(props, c, observed, props.acceleratorsStarted) };
}

export async function update(_id: string, olds: VmOutputs, given: VmInputs): Promise<{ outs: VmOutputs }> {
  // A VM an older release made gets its token now, and its record once this update has done its work.
  const kept = { ...given, seedKey: seedKeyFor(olds, given), ownerToken: olds.ownerToken ?? newOwnerToken(), autoPorts: olds.autoPorts };
  const recorded = await context(kept, recordedStateName(olds));
  const observed = await observe(vmHandle(recorded.transport, recorded.layout));
  const owned = vmOwned(recorded, observed, olds.ownerToken);
  const { c, inputs: news } = await withAllocatedPorts(recorded, kept);
  const action = planVm(news.state ?? "running", c.spec, observed);
  let accelerators = olds.acceleratorsStarted;
  let fallbacks: AcceleratorFailure[] | undefined;
  let after: Observed | undefined;
  const act = async () => {
    // What would refuse the new start refuses before the old instance is stopped.
    const checked = action.kind === "restart" ? await preflight(c, news) : undefined;
    if (action.kind === "stop" || action.kind === "restart") await stopVm(c, news.stopTimeouts, progress);
    if (action.kind === "start" || action.kind === "restart") ({ accelerators, observed: after, fallbacks } = await start(c, news, false, checked));
    if (action.kind === "resume") await resumeVm(vmHandle(c.transport, c.layout, c.spec.name));
  };
  if (action.kind === "restart" && news.rolloutGroup) {
    progress(`VM ${c.spec.name}: restart in rollout group ${news.rolloutGroup}, one host at a time`);
    await oneHostAtATime(news.rolloutGroup, connectionIdentity(news.host), act,
      (active) => progress(`VM ${c.spec.name}: waiting until the restarts on ${active} have ended`), `VM ${c.spec.name}`);
  } else {
    await act();
  }
  // Claims a directory an older release made; renews the lease of its own (keeping when it was made).
  if (owned.kind === "unclaimed" || news.expiresAfter !== undefined || olds.expiresAfter !== undefined) {
    await claim(c, news, parseOwnerRecord(observed.ownerRecord)?.created);
  }
  return { outs: await outputs(news, c, after ?? await observeStarted(c, accelerators), accelerators, fallbacks?.map(describeFailure) ?? olds.acceleratorFallbacks) };
}

/** Delete: observe, the stop ladder planStop gives, and the state directory removed with its cleanup; disks stay. */
export async function remove(_id: string, props: VmOutputs): Promise<void> {
  const c = recordedContext(props);
  vmOwned(c, await observe(c), props.ownerToken);
  await stopVm(c, props.stopTimeouts, progress, { removeState: "vms" });
}
