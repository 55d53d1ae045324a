/**
 * Whether a failed start may be the accelerator's fault, so that the VM's next accelerator may
 * run it: QEMU could not initialize the accelerator, the guest stopped under it in a state it
 * cannot leave (a KVM internal error, a panic), or it never got ready under it (a kvm_pvm host
 * on AMD hangs standard guests silently, at full CPU). Anything else (a port in use, a missing
 * file, a guest that exited) is the VM's own: another accelerator would not help. Pure;
 * table-tested.
 */
import { GuestPanicError, GuestStoppedError, NotReadyError, QemuStartError } from "../errors";
import { QEMU_ACCEL_NAME, type AcceleratorName } from "../host/accelerators/types";
import { GUEST_STOPPED_RUN_STATES } from "../qemu/runStates";

export interface AcceleratorFailure {
  accelerator: string;
  /** "start": QEMU could not use it; "run": the guest stopped under it; "ready": it never got ready under it. */
  stage: "start" | "run" | "ready";
  /** QEMU's words (and the run state, for "run"). */
  words: string;
}

/** Run states in which a guest stopped because of what runs it, and QEMU stays alive ("reset-loop" is ours: see waitReady). */
const STOPPED_UNDER_ACCELERATOR = new Set<string>([...GUEST_STOPPED_RUN_STATES, "reset-loop"]);

export function acceleratorFailure(accelerator: string, error: unknown): AcceleratorFailure | undefined {
  const qemuName = QEMU_ACCEL_NAME[accelerator as AcceleratorName] ?? accelerator;
  if (error instanceof QemuStartError) {
    const initFailed = new RegExp(`-accel ${qemuName}\\b|failed to initialize ${qemuName}\\b`).test(error.qemuSaid) ||
      (qemuName === "kvm" && /Could not access KVM kernel module/.test(error.qemuSaid));
    return initFailed ? { accelerator, stage: "start", words: error.qemuSaid.split("\n").join(" ") } : undefined;
  }
  if (error instanceof GuestStoppedError && STOPPED_UNDER_ACCELERATOR.has(error.runState)) {
    return { accelerator, stage: "run", words: `run state ${error.runState}${error.qemuSaid ? `: ${error.qemuSaid.split("\n").join(" ")}` : ""}` };
  }
  // A panic may be the guest's own (or a loaded host's): tried elsewhere, recorded only as a timeout is.
  if (error instanceof GuestPanicError) return { accelerator, stage: "ready", words: `its kernel panicked before it was ready: ${error.panic}` };
  if (error instanceof NotReadyError) return { accelerator, stage: "ready", words: `waited ${error.timeoutMs} ms for ${error.missing}` };
  return undefined;
}

/** One line per failure, for the CLI output and the final error. */
export function describeFailure(f: AcceleratorFailure): string {
  switch (f.stage) {
    case "start": return `QEMU could not start it under ${f.accelerator}: ${f.words}`;
    case "run": return `the guest stopped under ${f.accelerator} at run time (${f.words})`;
    case "ready": return `the guest did not get ready under ${f.accelerator} (${f.words})`;
  }
}
