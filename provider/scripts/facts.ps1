# The facts of a Windows host as one JSON object: CIM queries, the hypervisor drivers'
# services ($hypervisorServices), QEMU's binaries on PATH ($nativeBinaries: the one of the host's
# architecture, as $archNames names PROCESSOR_ARCHITECTURE), and the probe cache of $workDir.
$os = Get-CimInstance Win32_OperatingSystem
$cs = Get-CimInstance Win32_ComputerSystem
$cpu = Get-CimInstance Win32_Processor | Select-Object -First 1
# InstallState: 1 enabled, 2 disabled, 3 absent. Readable without administrator rights, unlike Get-WindowsOptionalFeature.
$feature = Get-CimInstance Win32_OptionalFeature -Filter "Name='HypervisorPlatform'" -ErrorAction SilentlyContinue
$services = @{}
foreach ($n in $hypervisorServices) {
  $s = Get-Service -Name $n -ErrorAction SilentlyContinue
  if ($s) { $services[$n] = [string]$s.Status }
}
$native = $nativeBinaries[[string]$archNames[$env:PROCESSOR_ARCHITECTURE]]
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
if ($workDir -ne '') {
  $cacheDir = Join-Path $workDir $probeCacheDir
  if (Test-Path -LiteralPath $cacheDir) {
    $cache = @(Get-ChildItem -LiteralPath $cacheDir -Filter *.json -File | ForEach-Object { Get-Content -Raw -LiteralPath $_.FullName })
  }
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
