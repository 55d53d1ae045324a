/**
 * One detector per hypervisor API: facts (and the functional probe's outcome, when it ran) in,
 * a report out. Pure; each is table-tested with recorded outputs of real hosts.
 */
import { nativeQemu, type HostFacts } from "../facts";
import type { ProbeOutcome } from "./longModeProbe";
import { RANK, type AcceleratorName, type AcceleratorReport } from "./types";

interface Checks {
  present: boolean;
  accessible: boolean;
  notPresent: string;
  notAccessible?: string;
  deprecated?: boolean;
  notes?: string[];
}

function report(name: AcceleratorName, facts: HostFacts, checks: Checks, probe?: ProbeOutcome): AcceleratorReport {
  const qemu = nativeQemu(facts);
  const qemuSupports = qemu?.accelerators.includes(name) ?? false;
  let reason = "";
  if (!checks.present) reason = checks.notPresent;
  else if (!checks.accessible) reason = checks.notAccessible ?? "";
  else if (!qemu) reason = `no QEMU for ${facts.arch} guests is installed (looked for it on PATH and in /usr/local/bin, /opt/homebrew/bin, /opt/local/bin)`;
  else if (!qemuSupports) reason = `${qemu.path} (QEMU ${qemu.version}) was built without ${name}: \`-accel help\` lists ${qemu.accelerators.join(", ") || "nothing"}`;
  else if (!probe) reason = "not probed";
  else if (!probe.usable) reason = `a probe guest did not run under ${name}: ${probe.reason}`;
  return {
    name,
    present: checks.present,
    accessible: checks.present && checks.accessible,
    qemuSupports,
    usable: reason === "",
    reason,
    deprecated: checks.deprecated ?? false,
    notes: checks.notes ?? [],
    rank: RANK[name],
  };
}

export function detectKvm(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  const linux = facts.os === "Linux";
  const notes = facts.cpuVirtFlags.length === 0 && facts.kvmDevice === "present"
    ? ["/proc/cpuinfo shows no vmx/svm flag (usual inside a VM with nested virtualization); only the probe tells whether guests run"]
    : [];
  return report("kvm", facts, {
    present: linux && facts.kvmDevice === "present",
    accessible: facts.kvmAccess === "rw",
    notPresent: !linux ? `KVM exists only on Linux hosts; this host runs ${facts.os}`
      : `/dev/kvm does not exist: the kvm module is ${facts.kernelModules.includes("kvm") ? "loaded but exposes no device" : "not loaded"} (no hardware virtualization, or it is off in the firmware or hypervisor)`,
    notAccessible: `${facts.user} cannot read and write /dev/kvm (${facts.kvmOwner ?? "owner unknown"}): add the user to the group that owns it (usermod -aG ${facts.kvmOwner?.split(/[: ]/)[1] ?? "kvm"} ${facts.user}) and log in again`,
    notes,
  }, probe);
}

export function detectHvf(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  const mac = facts.os === "Darwin";
  return report("hvf", facts, {
    present: mac && facts.hvSupport === "1",
    accessible: true,
    notPresent: !mac ? `Hypervisor.framework exists only on macOS hosts; this host runs ${facts.os}`
      : "kern.hv_support is 0: this Mac (or the VM it is) offers no Hypervisor.framework",
  }, probe);
}

const windowsOnly = (api: string, facts: HostFacts) => `${api} exists only on Windows hosts; this host runs ${facts.os}`;

export function detectWhpx(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  return report("whpx", facts, {
    present: false, accessible: false, notPresent: windowsOnly("Windows Hypervisor Platform", facts),
    notes: ["works, but guests run noticeably slower than under KVM or HVF"],
  }, probe);
}

export function detectHaxm(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  return report("haxm", facts, {
    present: facts.haxmDevice, accessible: facts.haxmDevice,
    notPresent: "the HAXM driver is not installed (no /dev/HAX)",
    deprecated: true,
    notes: ["Intel retired HAXM in 2023 and QEMU 8.2 removed it; prefer KVM, HVF or WHPX"],
  }, probe);
}

export function detectAehd(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  return report("aehd", facts, {
    present: false, accessible: false, notPresent: windowsOnly("AEHD (GVM)", facts),
    notes: ["needs Google's patched QEMU fork (the Android emulator's); stock QEMU does not support it"],
  }, probe);
}

export function detectTcg(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  return report("tcg", facts, {
    present: true, accessible: true, notPresent: "",
    notes: ["software emulation: always available, several times slower than a hypervisor"],
  }, probe);
}

export type Detector = (facts: HostFacts, probe?: ProbeOutcome) => AcceleratorReport;

export const DETECTORS: Array<[AcceleratorName, Detector]> = [
  ["kvm", detectKvm], ["hvf", detectHvf], ["whpx", detectWhpx], ["haxm", detectHaxm], ["aehd", detectAehd], ["tcg", detectTcg],
];

/** The best usable accelerator for a guest architecture: hardware only for the host's own. */
export function recommend(reports: AcceleratorReport[], hostArch: string, guestArch: string): AcceleratorName | undefined {
  const candidates = reports.filter((r) => r.usable && (r.name === "tcg" || guestArch === hostArch));
  candidates.sort((a, b) => a.rank - b.rank);
  return candidates[0]?.name;
}
