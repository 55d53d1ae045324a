/**
 * The capability report of a host: one round trip for the facts, then the functional probe for
 * each accelerator that could work, cached on the host by QEMU version and kernel.
 */
import { expectSuccess } from "../errors";
import { makeDirectory, toolOn, type Transport } from "../transport";
import { hostOps } from "../platform";
import { AARCH64_PROBE_IMAGE, AARCH64_PROBE_REVISION, aarch64ProbeArgv, judgeAarch64Probe } from "./accelerators/aarch64Probe";
import { DETECTORS, recommend } from "./accelerators/detectors";
import { judgeProbe, LONG_MODE_PROBE_IMAGE, probeArgv, PROBE_REVISION, PROBE_TIMEOUT_MS, type ProbeOutcome, type ProbeRun } from "./accelerators/longModeProbe";
import { probeHung, probeRunnerArgv } from "./accelerators/probeRunner";
import { QEMU_ACCEL_NAME, type AcceleratorName, type AcceleratorReport } from "./accelerators/types";
import { factsArgv } from "./factsScript";
import { probeCacheDir } from "../layout";
import { parseWindowsFacts, windowsFactsArgv } from "./windowsFacts";
import { nativeQemu, normalizeArch, parseFacts, type CachedProbe, type HostFacts } from "./facts";

export interface CapabilityReport {
  host: { os: string; arch: string; kernel: string; user: string; cpuModel: string; cores: number; memoryBytes: number };
  qemu: Array<{ name: string; path: string; version: string; accelerators: string[] }>;
  accelerators: AcceleratorReport[];
  /** Best usable accelerator for `guestArch`; undefined when nothing is usable. */
  recommended?: AcceleratorName;
  guestArch: string;
}

export interface ProbeOptions {
  /** Where the probe image and its cache live on the host. */
  workDir: string;
  /** Default: the host's own architecture. */
  guestArch?: string;
  /** Ignore cached probe results (a refresh that must re-run the guest). */
  reprobe?: boolean;
  /** The host's facts when the operation has gathered them already (once per operation). */
  facts?: HostFacts;
}

/** The facts script of each shell and the parser of what it prints (key=value lines from sh, JSON from PowerShell). */
const FACTS = {
  sh: { argv: factsArgv, parse: parseFacts },
  powershell: { argv: windowsFactsArgv, parse: parseWindowsFacts },
} as const;

export async function gatherFacts(transport: Transport, workDir: string): Promise<HostFacts> {
  const { shell } = hostOps(transport);
  const facts = FACTS[shell];
  const argv = facts.argv(workDir);
  const r = await transport.exec(argv, { timeoutMs: 30000 });
  return facts.parse(expectSuccess(`${transport.description}: gathering host facts`, argv, r, [shell, "<facts script>"]).stdout);
}

/** A functional probe: a tiny guest that proves an accelerator runs code of the host's architecture. */
interface Probe {
  revision: string;
  fileName: string;
  image: Buffer;
  argv(qemuBinary: string, accelerator: string, imagePath: string): string[];
  judge(result: ProbeRun): ProbeOutcome;
}

const PROBES: Record<string, Probe> = {
  x86_64: { revision: PROBE_REVISION, fileName: "longmode-probe.img", image: LONG_MODE_PROBE_IMAGE, argv: probeArgv, judge: judgeProbe },
  aarch64: { revision: AARCH64_PROBE_REVISION, fileName: "aarch64-probe.rom", image: AARCH64_PROBE_IMAGE, argv: aarch64ProbeArgv, judge: judgeAarch64Probe },
};

function cacheKey(accelerator: string, facts: HostFacts): string {
  return `${accelerator}|${nativeQemu(facts)?.version ?? "?"}|${facts.kernel}|${facts.user}|${PROBES[normalizeArch(facts.arch)]?.revision ?? "none"}`;
}

async function runProbe(transport: Transport, facts: HostFacts, accelerator: AcceleratorName, workDir: string): Promise<ProbeOutcome> {
  const qemu = nativeQemu(facts)!;
  const probe = PROBES[normalizeArch(facts.arch)];
  if (!probe) return { usable: false, reason: `no functional probe for ${facts.arch} hosts yet` };
  const dir = probeCacheDir(workDir);
  const image = `${dir}/${probe.fileName}`;
  await makeDirectory(transport, dir);
  await transport.writeFile(image, probe.image, { mode: 0o600 });
  const qemuArgv = probe.argv(qemu.path, QEMU_ACCEL_NAME[accelerator], image);
  const argv = hostOps(transport).probeRunner ? probeRunnerArgv(dir, qemuArgv) : toolOn(transport, qemuArgv);
  let outcome: ProbeOutcome;
  try {
    const r = await transport.exec(argv, { timeoutMs: PROBE_TIMEOUT_MS });
    outcome = probe.judge({ ...r, timedOut: probeHung(r.exitCode, r.stderr) });
  } catch (e) {
    if ((e as { code?: string }).code !== "TIMEOUT") throw e;
    outcome = probe.judge({ stdout: "", stderr: "", exitCode: null, timedOut: true });
  }
  await cacheOutcome(transport, dir, facts, accelerator, outcome);
  return outcome;
}

/** The host's record of what an accelerator ran, under the key that invalidates it (QEMU, kernel, user, probe). */
async function cacheOutcome(transport: Transport, dir: string, facts: HostFacts, accelerator: AcceleratorName, outcome: ProbeOutcome): Promise<void> {
  const cached: CachedProbe = { accelerator, key: cacheKey(accelerator, facts), ...outcome };
  await transport.writeFile(`${dir}/${accelerator}.json`, JSON.stringify(cached), { mode: 0o600 });
}

/**
 * Records that a real guest failed under an accelerator at run time, where the probe passed: the
 * next report and every later "auto" on this host say so. It lasts as a probe result does: until
 * QEMU, the kernel or the user changes, or a reprobe.
 */
export async function recordGuestFailure(transport: Transport, workDir: string, accelerator: AcceleratorName, vmName: string, reason: string, known?: HostFacts): Promise<void> {
  const facts = known ?? await gatherFacts(transport, workDir);
  const dir = probeCacheDir(workDir);
  await makeDirectory(transport, dir);
  await cacheOutcome(transport, dir, facts, accelerator, { usable: false, reason, failedVm: vmName });
}

export async function probeHost(transport: Transport, options: ProbeOptions): Promise<CapabilityReport> {
  const facts = options.facts ?? await gatherFacts(transport, options.workDir);
  const outcomes = new Map<AcceleratorName, ProbeOutcome>();
  for (const [name, detect] of DETECTORS) {
    const unprobed = detect(facts);
    if (!(unprobed.present && unprobed.accessible && unprobed.qemuSupports)) continue;
    const cached = options.reprobe ? undefined : facts.probeCache.find((c) => c.key === cacheKey(name, facts));
    outcomes.set(name, cached ?? await runProbe(transport, facts, name, options.workDir));
  }
  const accelerators = DETECTORS.map(([name, detect]) => detect(facts, outcomes.get(name)));
  const hostArch = normalizeArch(facts.arch);
  const guestArch = normalizeArch(options.guestArch ?? hostArch);
  return {
    host: { os: facts.os, arch: facts.arch, kernel: facts.kernel, user: facts.user, cpuModel: facts.cpuModel, cores: facts.cores, memoryBytes: facts.memoryBytes },
    qemu: facts.qemu,
    accelerators,
    recommended: recommend(accelerators, hostArch, guestArch),
    guestArch,
  };
}
