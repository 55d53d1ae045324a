/**
 * The facts of a Windows host: provider/scripts/facts.ps1 (CIM queries, services, QEMU's
 * binaries) printing one JSON object, and its parser into the HostFacts every detector reads.
 */
import { psFileArgv } from "../transport/windows";
import { PROBE_CACHE_DIR } from "../layout";
import { NATIVE_BINARY, parseProbeCache, qemuVersion, type HostFacts, type WindowsHypervisorFacts } from "./facts";

/** The services of the Windows hypervisor drivers QEMU can use besides WHPX. */
export const WINDOWS_HYPERVISOR_SERVICES = ["intelhaxm", "aehd", "gvm"];

/** facts.ps1 for a working directory whose probe cache is read. */
export function windowsFactsArgv(workDir: string): string[] {
  return psFileArgv(["facts.ps1"], {
    workDir, probeCacheDir: PROBE_CACHE_DIR, hypervisorServices: WINDOWS_HYPERVISOR_SERVICES, archNames: ARCH, nativeBinaries: NATIVE_BINARY,
  });
}

interface RawWindowsFacts {
  os?: string; osVersion?: string; kernel?: string; arch?: string; user?: string; home?: string;
  cpuModel?: string; cores?: number; memoryBytes?: number; memoryAvailableBytes?: number;
  hypervisorPresent?: boolean; hypervisorPlatform?: number;
  services?: Record<string, string | number>;
  qemu?: RawQemu | RawQemu[];
  qemuImg?: string;
  probeCache?: string | string[];
}
interface RawQemu { name: string; path: string; version?: string; accel?: string }

/** QEMU's names of the architectures Windows calls PROCESSOR_ARCHITECTURE. */
const ARCH: Record<string, string> = { AMD64: "x86_64", ARM64: "aarch64", x86: "i386" };
const FEATURE_STATE: Record<number, WindowsHypervisorFacts["hypervisorPlatform"]> = { 1: "enabled", 2: "disabled", 3: "absent" };
/** ServiceControllerStatus as a number (ConvertTo-Json of an enum on older PowerShell). */
const SERVICE_STATUS: Record<number, string> = { 1: "Stopped", 2: "StartPending", 3: "StopPending", 4: "Running", 5: "ContinuePending", 6: "PausePending", 7: "Paused" };

/** ConvertTo-Json writes a one-element array as the element itself on some PowerShell versions. */
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

export function parseWindowsFacts(json: string): HostFacts {
  // PowerShell may start its output with a byte-order mark.
  const raw = JSON.parse(json.replace(/^\uFEFF/, "").trim()) as RawWindowsFacts;
  const arch = ARCH[raw.arch ?? ""] ?? (raw.arch ?? "").toLowerCase();
  const services = Object.fromEntries(Object.entries(raw.services ?? {}).map(([k, v]) => [k.toLowerCase(), typeof v === "number" ? SERVICE_STATUS[v] ?? String(v) : v]));
  return {
    os: "Windows",
    osVersion: raw.osVersion || undefined,
    arch,
    kernel: raw.kernel ?? "",
    user: raw.user ?? "",
    home: (raw.home ?? "").replace(/\\/g, "/"),
    groups: [],
    cpuModel: (raw.cpuModel ?? "").trim(),
    cpuVirtFlags: [],
    cores: Number(raw.cores) || 0,
    memoryBytes: Number(raw.memoryBytes) || 0,
    memoryAvailableBytes: raw.memoryAvailableBytes ? Number(raw.memoryAvailableBytes) : undefined,
    kvmDevice: "absent",
    kernelModules: [],
    haxmDevice: false,
    qemu: list(raw.qemu).map((q) => ({
      name: q.name,
      path: q.path,
      version: qemuVersion(q.version ?? ""),
      accelerators: (q.accel ?? "").split(/\s+/).filter(Boolean),
    })).sort((a, b) => a.name.localeCompare(b.name)),
    qemuImg: raw.qemuImg || undefined,
    probeCache: parseProbeCache(list(raw.probeCache)),
    windows: {
      hypervisorPresent: raw.hypervisorPresent === true,
      hypervisorPlatform: FEATURE_STATE[raw.hypervisorPlatform ?? 0] ?? "unknown",
      services,
    },
  };
}
