/** From desired to observed: what to do with a VM. Pure; table-tested. */
import { sameData } from "../canonical";
import type { RunState } from "./observe";
import type { VmSpec, VmState } from "./spec";

export type VmAction =
  | { kind: "none" }
  | { kind: "start" }
  | { kind: "stop" }
  | { kind: "resume" }
  | { kind: "restart"; because: string[] };

/** The spec properties whose values differ: each needs a restart, QEMU cannot change them live. */
export function specChanges(before: VmSpec | undefined, after: VmSpec): string[] {
  if (!before) return [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof VmSpec>;
  const renamed: Partial<Record<keyof VmSpec, string>> = { memoryBytes: "memory", accelerators: "accelerator" };
  return [...keys].filter((k) => !sameData(before[k], after[k])).map((k) => renamed[k] ?? k).sort();
}

export function planVm(desired: VmState, spec: VmSpec, observed: { state: RunState; startedSpec?: VmSpec }): VmAction {
  if (desired === "stopped") return observed.state === "stopped" ? { kind: "none" } : { kind: "stop" };
  if (desired === "any") {
    // The power state is the user's; a changed spec still restarts an instance that is up.
    const up = observed.state === "running" || observed.state === "paused";
    const because = up ? specChanges(observed.startedSpec, spec) : [];
    return because.length ? { kind: "restart", because } : { kind: "none" };
  }
  switch (observed.state) {
    case "stopped":
      return { kind: "start" };
    case "failed":
      return { kind: "restart", because: ["state"] };
    case "paused":
    case "running": {
      const because = specChanges(observed.startedSpec, spec);
      if (because.length) return { kind: "restart", because };
      return observed.state === "paused" ? { kind: "resume" } : { kind: "none" };
    }
  }
}

/** What an update will do to the VM, in the words a preview prints; undefined when nothing. */
export function describeVmAction(action: VmAction): string | undefined {
  switch (action.kind) {
    case "none": return undefined;
    case "start": return "starts it (it is stopped)";
    case "stop": return "stops it";
    case "resume": return "resumes it (it is paused)";
    case "restart": return action.because.includes("state") ? "restarts it (its guest has failed)" : `restarts it (${action.because.join(", ")} changed)`;
  }
}

export type CreateAction = { kind: "none" } | { kind: "start" } | { kind: "adopt" };

/** A create: the VM is new to the state, so nothing of it is assumed to run (the start script checks under the lock). */
export function planCreate(desired: VmState, adopt: boolean): CreateAction {
  if (desired === "stopped") return { kind: "none" };
  return adopt ? { kind: "adopt" } : { kind: "start" };
}

export type FoundAction =
  | { kind: "keep" }
  | { kind: "replace" }
  | { kind: "refuse"; property: "spec" | "name"; because: string[] };

/**
 * An instance of ours was already running when a start went to start one (the start script saw
 * it under the VM's lock). A failed guest is replaced, whatever its spec; one with another spec
 * (or none readable) is refused; one with this spec is kept, except by a create that did not ask
 * to adopt: then it is another resource's, or an earlier create's whose state was lost.
 */
export function planFound(found: { state: RunState; startedSpec?: VmSpec }, spec: VmSpec, creating: boolean, adopt: boolean): FoundAction {
  if (found.state === "failed") return { kind: "replace" };
  if (!found.startedSpec) return { kind: "refuse", property: "spec", because: ["unreadable spec"] };
  const differs = specChanges(found.startedSpec, spec);
  if (differs.length) return { kind: "refuse", property: "spec", because: differs };
  if (creating && !adopt) return { kind: "refuse", property: "name", because: [] };
  return { kind: "keep" };
}

export type StopRung = "system_powerdown" | "guest-shutdown" | "quit" | "SIGTERM" | "SIGKILL";

/**
 * The stop ladder for what was observed: nothing for a stopped VM; ACPI powerdown first only for
 * a running guest (a failed or paused one cannot hear it) and when its wait is not 0, then (with
 * a guest agent) the agent's shutdown for a guest that ignores ACPI; then QMP quit, SIGTERM and
 * SIGKILL, each tried only while the VM is still there.
 */
export function planStop(state: RunState, powerdownMs: number, guestAgent = false): StopRung[] {
  if (state === "stopped") return [];
  const rungs: StopRung[] = ["quit", "SIGTERM", "SIGKILL"];
  if (state !== "running" || powerdownMs <= 0) return rungs;
  return guestAgent ? ["system_powerdown", "guest-shutdown", ...rungs] : ["system_powerdown", ...rungs];
}
