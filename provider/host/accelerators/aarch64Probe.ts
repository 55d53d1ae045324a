/**
 * The functional probe for 64-bit Arm hosts (Apple Silicon under hvf, Arm Linux under kvm): a
 * boot ROM for QEMU's `virt` machine that prints "A64" on the PL011 UART and powers the machine
 * off through PSCI, so QEMU exits with 0. Runs in EL1 with the MMU off, as the first code at
 * address 0 (`-bios`).
 */
import { createHash } from "crypto";
import { qemuWords } from "../../qemu/messages";
import { stoppedRunState, type ProbeOutcome, type ProbeRun } from "./longModeProbe";

/** Each instruction with its encoding (A64, little-endian words). */
const PROGRAM: Array<[string, number]> = [
  ["movz x1, #0x0900, lsl #16", 0xd2a12001], // x1 = 0x09000000, the virt machine's PL011 data register
  ["movz w0, #'A'", 0x52800820],
  ["strb w0, [x1]", 0x39000020],
  ["movz w0, #'6'", 0x528006c0],
  ["strb w0, [x1]", 0x39000020],
  ["movz w0, #'4'", 0x52800680],
  ["strb w0, [x1]", 0x39000020],
  ["movz w0, #0x0008", 0x52800100], // w0 = 0x84000008, PSCI SYSTEM_OFF
  ["movk w0, #0x8400, lsl #16", 0x72b08000],
  ["hvc #0", 0xd4000002], // QEMU's virt machine implements PSCI on the hvc conduit at EL1
  ["b .", 0x14000000], // not reached; if PSCI is missing the probe hangs and times out
];

export const AARCH64_PROBE_IMAGE = Buffer.concat(PROGRAM.map(([, word]) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(word);
  return b;
}));

export const AARCH64_PROBE_MARKER = "A64";
export const AARCH64_PROBE_REVISION = `a64-${createHash("sha256").update(AARCH64_PROBE_IMAGE).digest("hex").slice(0, 12)}-2`;

/** Hardware accelerators run the host's own CPU model; TCG emulates the richest one. */
export function aarch64ProbeArgv(qemuBinary: string, accelerator: string, imagePath: string): string[] {
  return [
    qemuBinary, "-accel", accelerator, "-M", "virt", "-cpu", accelerator === "tcg" ? "max" : "host", "-m", "16",
    "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot", "-trace", "enable=runstate_set", "-bios", imagePath,
  ];
}

export function judgeAarch64Probe(result: ProbeRun): ProbeOutcome {
  if (result.exitCode === 0 && result.stdout.includes(AARCH64_PROBE_MARKER)) return { usable: true };
  const qemuSaid = qemuWords(result.stderr);
  const printed = result.stdout.includes(AARCH64_PROBE_MARKER) ? "after printing its marker" : "before printing anything";
  const stopped = stoppedRunState(result.stderr);
  if (stopped) return { usable: false, reason: `QEMU stopped the probe guest (run state ${stopped}) ${printed}${qemuSaid ? `: ${qemuSaid}` : ""}` };
  if (result.timedOut) return { usable: false, reason: `the probe guest hung ${printed}${qemuSaid ? `: ${qemuSaid}` : ""}` };
  return { usable: false, reason: qemuSaid || `the probe guest stopped ${printed} (exit code ${result.exitCode})` };
}
