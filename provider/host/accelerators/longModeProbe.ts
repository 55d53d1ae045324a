import { createHash } from "crypto";
import { qemuWords } from "../../qemu/messages";
import { GUEST_STOPPED_RUN_STATES } from "../../qemu/runStates";

/**
 * The functional probe image (see longModeProbe.S, its source; a unit test reassembles it and
 * compares) and how to run and judge it under one accelerator.
 */

/**
 * 512-byte boot sector: real -> protected -> long mode, prints "RPL" on COM1, then "C" once a
 * `lock cmpxchg16b` has written a fresh page, and exits with 67.
 */
export const LONG_MODE_PROBE_IMAGE = Buffer.from(
  "+jHAjtiOwI7QvAB8uvgDsFLuZg8BFvh8DyDAZoPIAQ8iwGbqKnwAAAgAZrgQAI7YjsCO0Ga6+AOwUO6/ABAAADHAuQAMAADzq8cFABAAAAMgAADHBQAgAAADMAAAxwUAMAAAgwAAAA8g4IPIIA8i4LgAEAAADyLYuYAAAMAPMg0AAQAADzAPIMANAAAAgA8iwOqYfAAAGABIuAAAAABMAAAASMHoIGa6+APuvwAAGAAxwDHSu0MAAAAxyfBID8cPigdmuvgD7rAK7ma69ACwIe70jbYAAAAAAAAAAAAAAAD//wAAAJrPAP//AAAAks8A//8AAACarwAfANh8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAVao=",
  "base64");

/** What QEMU exits with when the probe reaches its end: isa-debug-exit turns 0x21 into (0x21 << 1) | 1 = 67. */
export const PROBE_SUCCESS_EXIT = 67;
export const PROBE_SERIAL_MARKER = "RPLC";
export const PROBE_TIMEOUT_MS = 15000;
/** Part of the cache key: a changed probe (image or argv) invalidates results cached on hosts. */
export const PROBE_REVISION = `${createHash("sha256").update(LONG_MODE_PROBE_IMAGE).digest("hex").slice(0, 12)}-3`;

/**
 * argv that runs the probe image under one accelerator, with its serial on stdout and QEMU's
 * run-state changes on stderr (the probe runner ends a guest that QEMU stopped but kept alive).
 */
export function probeArgv(qemuBinary: string, accelerator: string, imagePath: string): string[] {
  return [
    qemuBinary, "-accel", accelerator, "-M", "pc", "-m", "16", "-nodefaults", "-display", "none",
    "-serial", "stdio", "-no-reboot", "-trace", "enable=runstate_set",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-drive", `file=${imagePath.replace(/,/g, ",,")},format=raw,if=ide,snapshot=on`,
  ];
}

export interface ProbeOutcome {
  usable: boolean;
  /** Why not, in QEMU's words where it gave any. */
  reason?: string;
  /** Set when a real guest, not the probe, failed under the accelerator: the VM's name. */
  failedVm?: string;
}

/** What a probe run left, as the probe runner reports it. */
export interface ProbeRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
}

/** The step the guest was at, by the last stage letter it printed. */
const STEP_AFTER: Record<string, string> = {
  "": "its first instruction (real mode)",
  R: "the switch to 32-bit protected mode",
  P: "the switch to 64-bit long mode (PAE paging, EFER.LME)",
  L: "its first write to a fresh page, a lock cmpxchg16b (as Linux's SLUB allocator does early in boot)",
  C: "its exit through isa-debug-exit",
};

/** The run state QEMU stopped a probe guest in while staying alive (the runner then ended it). */
export function stoppedRunState(stderr: string): string | undefined {
  return new RegExp(`runstate_set.*new_state \\d+ \\((${GUEST_STOPPED_RUN_STATES.join("|")})\\)`).exec(stderr)?.[1];
}

/** Judges one probe run from what the host saw. */
export function judgeProbe(result: ProbeRun): ProbeOutcome {
  const stages = result.stdout.replace(/[^RPLC]/g, "");
  if (result.exitCode === PROBE_SUCCESS_EXIT && stages.startsWith(PROBE_SERIAL_MARKER)) return { usable: true };
  const qemuSaid = qemuWords(result.stderr);
  const step = STEP_AFTER[stages.slice(-1)] ?? STEP_AFTER[""];
  const said = qemuSaid ? `: ${qemuSaid}` : "";
  const stopped = stoppedRunState(result.stderr);
  if (stopped) return { usable: false, reason: `QEMU stopped the probe guest (run state ${stopped}) at ${step}${said}` };
  if (result.timedOut) return { usable: false, reason: `the probe guest hung at ${step}${said}` };
  return { usable: false, reason: qemuSaid || `the probe guest ended at ${step} (exit code ${result.exitCode})` };
}
