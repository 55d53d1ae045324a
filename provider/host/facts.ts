/** Host facts parsed from the facts script's key=value output. Pure. */
import { parseKeyValueLines } from "../keyValues";

export interface QemuBinary {
  name: string;
  path: string;
  /** "7.2.22", or "" when --version printed nothing we understand. */
  version: string;
  /** `-accel help` of the host's native binary; empty for the other binaries (not asked). */
  accelerators: string[];
}

export interface CachedProbe {
  accelerator: string;
  key: string;
  usable: boolean;
  reason?: string;
  /** A VM that failed under the accelerator at run time (recorded by the provider, not the probe). */
  failedVm?: string;
}

export interface HostFacts {
  os: string;
  arch: string;
  kernel: string;
  user: string;
  /** The user's home directory on the host ($HOME). */
  home: string;
  groups: string[];
  cpuModel: string;
  cpuVirtFlags: string[];
  cores: number;
  memoryBytes: number;
  memoryAvailableBytes?: number;
  kvmDevice: "present" | "absent";
  kvmAccess?: "rw" | "denied";
  /** "root:kvm 660" */
  kvmOwner?: string;
  kernelModules: string[];
  haxmDevice: boolean;
  /** macOS kern.hv_support: "1" or "0"; undefined elsewhere. */
  hvSupport?: string;
  qemu: QemuBinary[];
  qemuImg?: string;
  probeCache: CachedProbe[];
  /** macOS: the product version ("14.5"), Apple Silicon, and whether this shell runs under Rosetta 2. */
  osVersion?: string;
  appleSilicon?: boolean;
  translated?: boolean;
  /** UEFI firmware found for aarch64 guests (a `-bios` for the virt machine). */
  firmwareAarch64?: string;
  /** Windows hosts only: what the WHPX, HAXM and AEHD detectors read. */
  windows?: WindowsHypervisorFacts;
}

export interface WindowsHypervisorFacts {
  /** Win32_ComputerSystem.HypervisorPresent: a hypervisor (Hyper-V's) is running. */
  hypervisorPresent: boolean;
  /** The optional feature "HypervisorPlatform" (Win32_OptionalFeature.InstallState). */
  hypervisorPlatform: "enabled" | "disabled" | "absent" | "unknown";
  /** Service name (intelhaxm, aehd, gvm) -> its status ("Running", "Stopped"); absent when not installed. */
  services: Record<string, string>;
}

export function parseFacts(text: string): HostFacts {
  const values = parseKeyValueLines(text);
  // A shell that Rosetta 2 runs reports x86_64, but hvf serves only the Mac's own arm64.
  if (values.get("apple_silicon")?.[0] === "1") values.set("arch", ["arm64"]);
  const one = (key: string) => values.get(key)?.[0] ?? "";
  const words = (key: string) => one(key).split(/\s+/).filter(Boolean);
  const qemuNames = [...values.keys()].filter((k) => /^qemu\.[^.]+\.path$/.test(k)).map((k) => k.split(".")[1]);
  return {
    os: one("os"),
    arch: one("arch"),
    kernel: one("kernel"),
    user: one("user"),
    home: one("home"),
    groups: words("groups"),
    cpuModel: one("cpu_model"),
    cpuVirtFlags: words("cpu_virt_flags"),
    cores: Number(one("cores")) || 0,
    memoryBytes: Number(one("memory_bytes")) || 0,
    memoryAvailableBytes: one("memory_available_bytes") ? Number(one("memory_available_bytes")) : undefined,
    kvmDevice: one("kvm_device") === "present" ? "present" : "absent",
    kvmAccess: one("kvm_access") === "rw" ? "rw" : one("kvm_access") === "denied" ? "denied" : undefined,
    kvmOwner: one("kvm_owner") || undefined,
    kernelModules: values.get("kernel_module") ?? [],
    haxmDevice: one("haxm_device") === "present",
    hvSupport: values.has("hv_support") ? one("hv_support") : undefined,
    qemu: qemuNames.sort().map((name) => ({
      name,
      path: one(`qemu.${name}.path`),
      version: qemuVersion(one(`qemu.${name}.version`)),
      accelerators: words(`qemu.${name}.accel`),
    })),
    qemuImg: one("qemu_img") || undefined,
    probeCache: parseProbeCache(values.get("probe_cache") ?? []),
    osVersion: one("os_version") || undefined,
    appleSilicon: values.has("apple_silicon") ? one("apple_silicon") === "1" : undefined,
    translated: values.has("translated") ? one("translated") === "1" : undefined,
    firmwareAarch64: one("firmware.aarch64") || undefined,
  };
}

/** "7.2.22" from `qemu-system-* --version`'s first line; "" when it says nothing we understand. */
export function qemuVersion(line: string): string {
  return /version (\d+\.\d+(\.\d+)?)/.exec(line)?.[1] ?? "";
}

export function parseProbeCache(entries: string[]): CachedProbe[] {
  return entries.flatMap((json) => {
    try {
      return [JSON.parse(json) as CachedProbe];
    } catch {
      return []; // a damaged cache entry is re-probed
    }
  });
}

/** The QEMU that runs guests of a host's own architecture, by the name uname (or Windows, normalized) gives it; the facts scripts get it too. */
export const NATIVE_BINARY: Record<string, string> = {
  x86_64: "qemu-system-x86_64", amd64: "qemu-system-x86_64", i386: "qemu-system-i386",
  aarch64: "qemu-system-aarch64", arm64: "qemu-system-aarch64",
  riscv64: "qemu-system-riscv64", ppc64le: "qemu-system-ppc64", s390x: "qemu-system-s390x",
};

/** QEMU's name for an architecture as uname or a user writes it. */
export function normalizeArch(arch: string): string {
  return ({ amd64: "x86_64", arm64: "aarch64" } as Record<string, string>)[arch] ?? arch;
}

/** The host's QEMU for guests of its own architecture, if installed. */
export function nativeQemu(facts: HostFacts): QemuBinary | undefined {
  return facts.qemu.find((q) => q.name === NATIVE_BINARY[facts.arch]);
}
