/**
 * The facts of a Windows host: one PowerShell script (CIM queries, services, QEMU's binaries)
 * printing one JSON object, and its parser into the HostFacts every detector reads.
 */
import { psQuote, psScriptArgv } from "../transport";
import { PROBE_CACHE_DIR } from "../layout";
import { parseProbeCache, qemuVersion, type HostFacts, type WindowsHypervisorFacts } from "./facts";

/** The services of the Windows hypervisor drivers QEMU can use besides WHPX. */
export const WINDOWS_HYPERVISOR_SERVICES = ["intelhaxm", "aehd", "gvm"];

export function windowsFactsScript(workDir: string): string {
  return String.raw`$os = Get-CimInstance Win32_OperatingSystem
$cs = Get-CimInstance Win32_ComputerSystem
$cpu = Get-CimInstance Win32_Processor | Select-Object -First 1
# InstallState: 1 enabled, 2 disabled, 3 absent. Readable without administrator rights, unlike Get-WindowsOptionalFeature.
$feature = Get-CimInstance Win32_OptionalFeature -Filter "Name='HypervisorPlatform'" -ErrorAction SilentlyContinue
$services = @{}
foreach ($n in @(${WINDOWS_HYPERVISOR_SERVICES.map(psQuote).join(", ")})) {
  $s = Get-Service -Name $n -ErrorAction SilentlyContinue
  if ($s) { $services[$n] = [string]$s.Status }
}
$native = @{ AMD64 = 'qemu-system-x86_64'; ARM64 = 'qemu-system-aarch64'; x86 = 'qemu-system-i386' }[$env:PROCESSOR_ARCHITECTURE]
# A native program's stderr must not become a terminating error under 'Stop'.
$ErrorActionPreference = 'Continue'
$qemu = @()
$seen = @{}
foreach ($d in ($env:Path -split ';' | Where-Object { $_ })) {
  foreach ($f in (Get-ChildItem -LiteralPath $d -Filter 'qemu-system-*.exe' -File -ErrorAction SilentlyContinue)) {
    # qemu-system-x86_64w.exe is the same emulator without a console window.
    if ($seen[$f.BaseName] -or $f.BaseName -like '*w') { continue }
    $seen[$f.BaseName] = $true
    $version = [string](& $f.FullName --version 2>$null | Select-Object -First 1)
    $accel = ''
    if ($f.BaseName -eq $native) { $accel = (& $f.FullName -accel help 2>$null | Select-Object -Skip 1) -join ' ' }
    $qemu += [pscustomobject]@{ name = $f.BaseName; path = $f.FullName; version = $version; accel = $accel }
  }
}
$img = Get-Command qemu-img -ErrorAction SilentlyContinue
$cache = @()
$cacheDir = Join-Path ${psQuote(workDir)} ${psQuote(PROBE_CACHE_DIR)}
if (${psQuote(workDir)} -ne '' -and (Test-Path -LiteralPath $cacheDir)) {
  $cache = @(Get-ChildItem -LiteralPath $cacheDir -Filter *.json -File | ForEach-Object { Get-Content -Raw -LiteralPath $_.FullName })
}
[pscustomobject]@{
  os = 'Windows'; osVersion = [string]$os.Caption; kernel = [string]$os.Version; arch = [string]$env:PROCESSOR_ARCHITECTURE
  user = [string]$env:USERNAME; home = [string]$env:USERPROFILE
  cpuModel = [string]$cpu.Name; cores = [int]$cs.NumberOfLogicalProcessors
  memoryBytes = [int64]$cs.TotalPhysicalMemory; memoryAvailableBytes = [int64]$os.FreePhysicalMemory * 1024
  hypervisorPresent = [bool]$cs.HypervisorPresent
  hypervisorPlatform = if ($feature) { [int]$feature.InstallState } else { 0 }
  services = $services; qemu = @($qemu); qemuImg = if ($img) { $img.Source } else { '' }; probeCache = @($cache)
} | ConvertTo-Json -Depth 4 -Compress
`;
}

export function windowsFactsArgv(workDir: string): string[] {
  return psScriptArgv(windowsFactsScript(workDir));
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
