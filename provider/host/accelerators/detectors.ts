/**
 * One detector per hypervisor API: facts (and the functional probe's outcome, when it ran) in,
 * a report out. Pure; each is table-tested with recorded outputs of real hosts.
 */
import { POSIX_QEMU_DIRS } from "../../transport/hostScript";
import { nativeQemu, type HostFacts } from "../facts";
import type { ProbeOutcome } from "./longModeProbe";
import { qemuAccelNames, RANK, type AcceleratorName, type AcceleratorReport } from "./types";

interface Checks {
  present: boolean;
  accessible: boolean;
  notPresent: string;
  notAccessible?: string;
  deprecated?: boolean;
  notes?: string[];
  /** Why the host's QEMU cannot use it although `-accel help` might say so (HAXM in QEMU >= 8.2). */
  qemuCannot?: string;
}

function report(name: AcceleratorName, facts: HostFacts, checks: Checks, probe?: ProbeOutcome): AcceleratorReport {
  const qemu = nativeQemu(facts);
  const qemuSupports = !checks.qemuCannot && qemuAccelNames(name).some((n) => qemu?.accelerators.includes(n));
  const lookedIn = facts.os === "Windows" ? "on PATH and in %ProgramFiles%\\qemu" : `on PATH and in ${POSIX_QEMU_DIRS.join(", ")}`;
  let reason = "";
  if (!checks.present) reason = checks.notPresent;
  else if (!checks.accessible) reason = checks.notAccessible ?? "";
  else if (!qemu) reason = `no QEMU for ${facts.arch} guests is installed (looked for it ${lookedIn})`;
  else if (checks.qemuCannot) reason = checks.qemuCannot;
  else if (!qemuSupports) reason = `${qemu.path} (QEMU ${qemu.version}) was built without ${name}: \`-accel help\` lists ${qemu.accelerators.join(", ") || "nothing"}`;
  else if (!probe) reason = "not probed";
  else if (!probe.usable) reason = probe.failedVm ? `VM ${probe.failedVm} failed under ${name} at run time: ${probe.reason}` : `a probe guest did not run under ${name}: ${probe.reason}`;
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

/** The KVM module that serves /dev/kvm: kvm_intel or kvm_amd, another (kvm_pvm), or undefined when none is seen. */
export function kvmVendorModule(facts: HostFacts): string | undefined {
  const vendors = facts.kernelModules.filter((m) => m.startsWith("kvm_"));
  return vendors.find((m) => m === "kvm_intel" || m === "kvm_amd") ?? vendors[0];
}

/** What the module serving /dev/kvm is, when it is not the hardware's own. */
const KVM_MODULE_IS: Record<string, string> = {
  kvm_pvm: "KVM on shadow paging that emulates faulting instructions in software, for VMs without nested hardware virtualization",
};

function kvmModuleSentence(facts: HostFacts): string {
  const module = kvmVendorModule(facts);
  if (!module || module === "kvm_intel" || module === "kvm_amd") return "";
  return `/dev/kvm is served by ${module}${KVM_MODULE_IS[module] ? ` (${KVM_MODULE_IS[module]})` : ""}, not by kvm_intel or kvm_amd`;
}

export function detectKvm(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  const linux = facts.os === "Linux";
  const module = facts.kvmDevice === "present" ? kvmModuleSentence(facts) : "";
  const notes = facts.cpuVirtFlags.length === 0 && facts.kvmDevice === "present"
    ? ["/proc/cpuinfo shows no vmx/svm flag (usual inside a VM with nested virtualization); only the probe tells whether guests run"]
    : [];
  const failed = probe && !probe.usable && module
    ? { ...probe, reason: `${probe.reason}; ${module}: standard guests fail under it the same way; use tcg, or a host with hardware virtualization (vmx or svm)` }
    : probe;
  if (module && !failed?.reason) notes.push(`${module}; only a running guest tells whether standard guests run under it`);
  return report("kvm", facts, {
    present: linux && facts.kvmDevice === "present",
    accessible: facts.kvmAccess === "rw",
    notPresent: !linux ? `KVM exists only on Linux hosts; this host runs ${facts.os}`
      : `/dev/kvm does not exist: the kvm module is ${facts.kernelModules.includes("kvm") ? "loaded but exposes no device" : "not loaded"} (no hardware virtualization, or it is off in the firmware or hypervisor)`,
    notAccessible: `${facts.user} cannot read and write /dev/kvm (${facts.kvmOwner ?? "owner unknown"}): add the user to the group that owns it (usermod -aG ${facts.kvmOwner?.split(/[: ]/)[1] ?? "kvm"} ${facts.user}) and log in again`,
    notes,
  }, failed);
}

export function detectHvf(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  const mac = facts.os === "Darwin";
  const notes = facts.appleSilicon ? ["Apple Silicon: hvf runs aarch64 guests only; x86_64 guests need tcg"] : [];
  if (facts.translated) notes.push("the SSH session's shell runs under Rosetta 2; the report is for the Mac's own arm64");
  return report("hvf", facts, {
    present: mac && facts.hvSupport === "1",
    accessible: true,
    notPresent: !mac ? `Hypervisor.framework exists only on macOS hosts; this host runs ${facts.os}`
      : "kern.hv_support is 0: this Mac (or the VM it is) offers no Hypervisor.framework",
    notes,
  }, probe);
}

const windowsOnly = (api: string, facts: HostFacts) => `${api} exists only on Windows hosts; this host runs ${facts.os}`;

/** A Windows driver's service: running, installed but not running, or absent. */
function service(facts: HostFacts, names: string[]): { name: string; status?: string } {
  const name = names.find((n) => facts.windows?.services[n] !== undefined) ?? names[0];
  return { name, status: facts.windows?.services[name] };
}

export function detectWhpx(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  const w = facts.windows;
  const notPresent = !w ? windowsOnly("Windows Hypervisor Platform", facts)
    : w.hypervisorPlatform !== "enabled"
      ? `the Windows feature HypervisorPlatform is ${w.hypervisorPlatform}: enable it (Enable-WindowsOptionalFeature -Online -FeatureName HypervisorPlatform, as administrator) and restart`
      : "the feature HypervisorPlatform is enabled but no hypervisor is running (Win32_ComputerSystem.HypervisorPresent is false): check that virtualization is on in the firmware and that hypervisorlaunchtype is not off (bcdedit), then restart";
  return report("whpx", facts, {
    present: Boolean(w && w.hypervisorPlatform === "enabled" && w.hypervisorPresent), accessible: true, notPresent,
    notes: ["works, but guests run noticeably slower than under KVM or HVF"],
  }, probe);
}

/** QEMU 8.2 removed HAXM support (its `-accel hax`). */
function qemuDroppedHaxm(facts: HostFacts): string | undefined {
  const qemu = nativeQemu(facts);
  const [major, minor] = (qemu?.version ?? "").split(".").map(Number);
  return major > 8 || (major === 8 && minor >= 2) ? `${qemu!.path} is QEMU ${qemu!.version}; QEMU removed HAXM in 8.2: use QEMU 8.1 or older for HAXM, or WHPX` : undefined;
}

export function detectHaxm(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  const svc = service(facts, ["intelhaxm"]);
  const present = facts.windows ? svc.status !== undefined : facts.haxmDevice;
  const running = facts.windows ? svc.status === "Running" : facts.haxmDevice;
  return report("haxm", facts, {
    present, accessible: running,
    notPresent: facts.windows ? "the HAXM driver is not installed (no service intelhaxm)" : "the HAXM driver is not installed (no /dev/HAX)",
    notAccessible: `the service intelhaxm is ${svc.status}: HAXM needs VT-x on in the firmware and Hyper-V off (sc start intelhaxm says why it does not start)`,
    deprecated: true,
    qemuCannot: qemuDroppedHaxm(facts),
    notes: ["Intel retired HAXM in 2023 and QEMU 8.2 removed it; prefer KVM, HVF or WHPX"],
  }, probe);
}

export function detectAehd(facts: HostFacts, probe?: ProbeOutcome): AcceleratorReport {
  const svc = service(facts, ["aehd", "gvm"]);
  const qemu = nativeQemu(facts);
  const fork = qemuAccelNames("aehd").some((n) => qemu?.accelerators.includes(n));
  return report("aehd", facts, {
    present: Boolean(facts.windows) && svc.status !== undefined,
    accessible: svc.status === "Running",
    notPresent: !facts.windows ? windowsOnly("AEHD (GVM)", facts) : "the Android Emulator hypervisor driver is not installed (no service aehd or gvm)",
    notAccessible: `the service ${svc.name} is ${svc.status}: AEHD needs virtualization on in the firmware and Hyper-V off (sc query ${svc.name} shows its exit code)`,
    qemuCannot: qemu && !fork ? `${qemu.path} (QEMU ${qemu.version}) is stock QEMU, not Google's AEHD fork: \`-accel help\` lists ${qemu.accelerators.join(", ") || "nothing"}` : undefined,
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

/** The usable accelerators for a guest architecture, best first: hardware only for the host's own. */
export function usableInOrder(reports: AcceleratorReport[], hostArch: string, guestArch: string): AcceleratorName[] {
  const candidates = reports.filter((r) => r.usable && (r.name === "tcg" || guestArch === hostArch));
  candidates.sort((a, b) => a.rank - b.rank);
  return candidates.map((r) => r.name);
}

/** The best usable accelerator for a guest architecture. */
export function recommend(reports: AcceleratorReport[], hostArch: string, guestArch: string): AcceleratorName | undefined {
  return usableInOrder(reports, hostArch, guestArch)[0];
}
