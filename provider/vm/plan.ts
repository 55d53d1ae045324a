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
