import { createHash } from "crypto";

/**
 * The functional probe image (see longModeProbe.S, its source; a unit test reassembles it and
 * compares) and how to run and judge it under one accelerator.
 */

/** 512-byte boot sector: real -> protected -> long mode, prints "RPL" on COM1, exits with 67. */
export const LONG_MODE_PROBE_IMAGE = Buffer.from(
  "+jHAjtiOwI7QvAB8uvgDsFLuZg8BFth8DyDAZoPIAQ8iwGbqKnwAAAgAZrgQAI7YjsCO0Ga6+AOwUO6/ABAAADHAuQAMAADzq8cFABAAAAMgAADHBQAgAAADMAAAxwUAMAAAgwAAAA8g4IPIIA8i4LgAEAAADyLYuYAAAMAPMg0AAQAADzAPIMANAAAAgA8iwOqYfAAAGABIuAAAAABMAAAASMHoIGa6+APusAruZrr0ALAh7vRmkAAAAAAAAAAA//8AAACazwD//wAAAJLPAP//AAAAmq8AHwC4fAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAVao=",
  "base64");

/** What QEMU exits with when the probe reaches its end: isa-debug-exit turns 0x21 into (0x21 << 1) | 1. */
export const PROBE_SUCCESS_EXIT = 67;
export const PROBE_SERIAL_MARKER = "RPL";
export const PROBE_TIMEOUT_MS = 15000;
/** Part of the cache key: a changed probe (image or argv) invalidates results cached on hosts. */
export const PROBE_REVISION = `${createHash("sha256").update(LONG_MODE_PROBE_IMAGE).digest("hex").slice(0, 12)}-2`;

/** argv that runs the probe image under one accelerator, with its serial on stdout. */
export function probeArgv(qemuBinary: string, accelerator: string, imagePath: string): string[] {
  return [
    qemuBinary, "-accel", accelerator, "-M", "pc", "-m", "16", "-nodefaults", "-display", "none",
    "-serial", "stdio", "-no-reboot",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-drive", `file=${imagePath.replace(/,/g, ",,")},format=raw,if=ide,snapshot=on`,
  ];
}

export interface ProbeOutcome {
  usable: boolean;
  /** Why not, in QEMU's words where it gave any. */
  reason?: string;
}

/** QEMU's first two lines on stderr that are not warnings: the cause, in its words. */
export function qemuWords(stderr: string): string {
  return stderr.split("\n").map((l) => l.trim()).filter(Boolean)
    .filter((l) => !/^qemu-system-\S+: warning:/.test(l)).slice(0, 2).join(" ");
}

/** Judges one probe run from what the host saw. */
export function judgeProbe(result: { stdout: string; stderr: string; exitCode: number | null; timedOut: boolean }): ProbeOutcome {
  const stages = result.stdout.replace(/[^RPL]/g, "");
  if (result.exitCode === PROBE_SUCCESS_EXIT && stages.startsWith(PROBE_SERIAL_MARKER)) return { usable: true };
  const qemuSaid = qemuWords(result.stderr);
  const reached = stages.includes("P") ? (stages.includes("L") ? "long mode" : "protected mode") : stages.includes("R") ? "real mode" : "no guest code";
  if (result.timedOut) {
    return { usable: false, reason: `the probe guest hung after reaching ${reached}${qemuSaid ? `: ${qemuSaid}` : ""}` };
  }
  return { usable: false, reason: qemuSaid || `the probe guest stopped after reaching ${reached} (exit code ${result.exitCode})` };
}
