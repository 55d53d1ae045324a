/**
 * What is really on the host for a VM: the pidfile's process counts only if it is this VM's
 * (see hostScripts' is_ours); the run state comes from QEMU's own run-state trace, or from
 * QMP when there is none (an instance started before the trace existed). Never throws for a dead VM.
 */
import { expectSuccess } from "../errors";
import type { VmHandle } from "./handle";
import type { Transport } from "../transport";
import { withVmQmp } from "./qmpEndpoint";
import { observeValues } from "./observeBatch";
import { hostOps } from "../platform";
import type { VmSpec } from "./spec";

/** running; paused (by QMP, or migrating, or not yet started); failed (the process lives but the guest does not run); stopped (no process of ours). */
export type RunState = "running" | "paused" | "failed" | "stopped";

export interface Observed {
  state: RunState;
  pid?: number;
  /** QMP's own status word (query-status), when QMP answered. */
  qmpStatus?: string;
  /** One sentence on how the state was established. */
  detail: string;
  /** The spec the instance was started with (from the state directory). */
  startedSpec?: VmSpec;
  /** Whether KVM is enabled in the instance (query-kvm), when QMP answered. */
  kvmEnabled?: boolean;
  /** How often QEMU's trace saw the boot CPU reset (once at start, then per guest reboot); undefined without the trace. */
  bootCpuResets?: number;
  /** The state directory's owner record (owner.ts), as its text; undefined when there is none. */
  ownerRecord?: string;
}

// Not restore-vm: QEMU stays there only after a loadvm that failed once it had reverted the
// disks, with memory partly loaded; resuming would run a guest whose memory does not match its
// disks. As "failed" it is restarted from its disks, never resumed.
const PAUSED = new Set(["paused", "suspended", "debug", "prelaunch", "inmigrate", "postmigrate", "finish-migrate", "save-vm", "colo"]);

/** What a QMP status means, where the word alone does not say it. */
export function statusMeaning(qmpStatus: string): string {
  return qmpStatus === "restore-vm"
    ? " (a revert to a snapshot failed after it had reverted the disks: the guest's memory is not the snapshot's, so it is never resumed, only restarted from its disks)"
    : "";
}

/** Every QMP run state maps to one of ours. */
export function runStateOf(qmpStatus: string): RunState {
  if (qmpStatus === "running") return "running";
  if (PAUSED.has(qmpStatus)) return "paused";
  // internal-error, io-error, guest-panicked, shutdown, watchdog, and any state newer than these
  // lists: the guest is not known to be running.
  return "failed";
}

/** A started spec as the state directory keeps it; undefined when absent or unreadable. */
export function parseSpec(text: string | undefined): VmSpec | undefined {
  try {
    return text ? JSON.parse(text) as VmSpec : undefined;
  } catch {
    return undefined;
  }
}

/** The started spec of every VM under a working directory's state root, one round trip. */
export async function listStartedSpecs(transport: Transport, stateRoot: string): Promise<Array<{ dir: string; spec: VmSpec }>> {
  const argv = hostOps(transport).vm.listSpecs(stateRoot);
  // Who uses a disk is decided from this list: a failed listing is an error, never "nobody".
  return expectSuccess(`${transport.description}: listing the VMs of ${stateRoot}`, argv, await transport.exec(argv)).stdout.split(/\r?\n/).flatMap((line) => {
    const [dir, json] = line.split("\t");
    const spec = parseSpec(json);
    return spec ? [{ dir, spec }] : [];
  });
}

export async function queryStatus(handle: VmHandle): Promise<{ status: string; kvmEnabled: boolean }> {
  return withVmQmp(handle, 5000, async (qmp) => {
    const status = await qmp.execute<{ status: string }>("query-status");
    const kvm = await qmp.execute<{ enabled: boolean }>("query-kvm").catch(() => ({ enabled: false }));
    return { status: status.status, kvmEnabled: kvm.enabled };
  });
}

/** The run state a `runstate_set` trace line moves to; undefined for anything else. */
export function parseRunStateLine(line: string | undefined): string | undefined {
  return /\brunstate_set\b.*\bnew_state \d+ \(([\w-]+)\)/.exec(line ?? "")?.[1];
}

export interface ObserveOptions {
  /** Ask QMP whether KVM is enabled (needed only when QEMU chose among several accelerators). */
  needKvm?: boolean;
}

export async function observe(handle: VmHandle, options: ObserveOptions = {}): Promise<Observed> {
  const { transport, layout, name } = handle;
  return observedFrom(handle, await observeValues(transport, { layout, name }), options);
}

/** Judges the key=value lines of one VM's observation (the start script prints them too). */
export async function observedFrom(handle: VmHandle, values: Map<string, string>, options: ObserveOptions = {}): Promise<Observed> {
  const pid = Number(values.get("pid")) || undefined;
  const startedSpec = parseSpec(values.get("spec"));
  const ownerRecord = values.get("owner");
  const observed = await observedState(handle, values, pid, startedSpec, options);
  return ownerRecord === undefined ? observed : { ...observed, ownerRecord };
}

async function observedState(handle: VmHandle, values: Map<string, string>, pid: number | undefined, startedSpec: VmSpec | undefined, options: ObserveOptions): Promise<Observed> {
  if (values.get("ours") !== "1") {
    const detail = pid ? `the pidfile names PID ${pid}, which is not this VM's QEMU (gone, a zombie, or another program)` : "no pidfile";
    return { state: "stopped", detail, startedSpec };
  }
  const traced = parseRunStateLine(values.get("runstate"));
  const bootCpuResets = values.has("bootcpu_resets") ? Number(values.get("bootcpu_resets")) : undefined;
  if (traced && !options.needKvm) return { state: runStateOf(traced), pid, qmpStatus: traced, detail: `QEMU's run-state trace says ${traced}${statusMeaning(traced)}`, startedSpec, bootCpuResets };
  if (values.get("socket") !== "1") return { state: "running", pid, detail: "QEMU runs but its QMP socket is missing", startedSpec };
  try {
    const { status, kvmEnabled } = await queryStatus(handle);
    return { state: runStateOf(status), pid, qmpStatus: status, kvmEnabled, detail: `QMP says ${status}${statusMeaning(status)}`, startedSpec };
  } catch (e) {
    return { state: "running", pid, detail: `QEMU runs but QMP did not answer: ${(e as Error).message}`, startedSpec };
  }
}
