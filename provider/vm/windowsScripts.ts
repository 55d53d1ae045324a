/**
 * The Windows twins of hostScripts.ts, in PowerShell: same duties, same key=value output (so
 * observe.ts judges both). Values are embedded as verbatim-quoted literals (an encoded command
 * takes no arguments). A process counts as the VM's only if its PID and creation time are those
 * recorded at start, or its command line (Win32_Process) has `guest=NAME` and `-pidfile PIDFILE`.
 * QEMU cannot daemonize on Windows: it is started with Win32_Process.Create, outside the SSH
 * session's job object, whose processes Windows OpenSSH ends when the session closes.
 */
import { WINDOWS_QMP_ADDRESS, WINDOWS_QMP_PORT } from "./argv";
import { psQuote, psScriptArgv, winJoin, winQuoteArg } from "../transport";
import type { ObserveTarget } from "./hostScripts";
import type { VmLayout } from "../layout";

/** The file beside the pidfile that holds the loopback port QEMU's QMP listens on. */
export function qmpPortFile(layout: VmLayout): string {
  return `${layout.dir}/qmp.port`;
}

function vmLiteral({ layout, name }: ObserveTarget): string {
  const fields: Record<string, string> = {
    name, dir: layout.dir, pidfile: layout.pidfile, pidfileArg: winQuoteArg(layout.pidfile), qmpport: qmpPortFile(layout),
    spec: layout.startedSpec, qemulog: layout.qemuLog, identity: layout.identity, lock: layout.lock,
  };
  return `@{ ${Object.entries(fields).map(([k, v]) => `${k} = ${psQuote(v)}`).join("; ")} }`;
}

export const WINDOWS_VM_FUNCTIONS = String.raw`
function Read-Pid($vm) {
  if (-not (Test-Path -LiteralPath $vm.pidfile)) { return $null }
  $t = [string](Get-Content -LiteralPath $vm.pidfile -TotalCount 1)
  if ($t -match '^\s*(\d+)\s*$') { return [int]$Matches[1] } else { return $null }
}
function Get-Proc($id) {
  if ($null -eq $id) { return $null }
  Get-CimInstance Win32_Process -Filter "ProcessId=$id" -ErrorAction SilentlyContinue
}
function Get-Started($proc) { return $proc.CreationDate.ToUniversalTime().Ticks }
function Test-Ours($vm, $proc) {
  if ($null -eq $proc) { return $false }
  if (Test-Path -LiteralPath $vm.identity) {
    if ([string](Get-Content -LiteralPath $vm.identity -TotalCount 1) -eq "$($proc.ProcessId) $(Get-Started $proc)") { return $true }
  }
  $line = ' ' + $proc.CommandLine + ' '
  return $line.Contains(' guest=' + $vm.name + ' ') -and $line.Contains(' -pidfile ' + $vm.pidfileArg + ' ')
}
# QEMU keeps its log open for writing: read it with write sharing allowed.
function Read-Shared($path) {
  $f = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite')
  try { return (New-Object IO.StreamReader($f)).ReadToEnd() } finally { $f.Close() }
}
function Get-RunState($vm) {
  if (-not (Test-Path -LiteralPath $vm.qemulog)) { return $null }
  $last = ''
  foreach ($l in ((Read-Shared $vm.qemulog) -split "\r?\n")) { if ($l.Contains('runstate_set')) { $last = $l } }
  return $last
}
function Write-Observation($vm) {
  $qpid = Read-Pid $vm
  "pid=$qpid"
  if (Test-Ours $vm (Get-Proc $qpid)) { 'ours=1' } else { 'ours=0' }
  if (Test-Path -LiteralPath $vm.qmpport) { 'socket=1' } else { 'socket=0' }
  $rs = Get-RunState $vm
  if ($null -ne $rs) { "runstate=$rs" }
  if (Test-Path -LiteralPath $vm.spec) { 'spec=' + [string](Get-Content -LiteralPath $vm.spec -TotalCount 1) }
}
# The VM's lock: the lock file opened without sharing, held until this script ends.
function Lock-Vm($vm) {
  $deadline = (Get-Date).AddSeconds(120)
  while ($true) {
    try { return [IO.File]::Open($vm.lock, 'OpenOrCreate', 'ReadWrite', 'None') } catch [IO.IOException] {
      if ((Get-Date) -gt $deadline) { [Console]::Error.WriteLine("waited 120 s for the VM's lock $($vm.lock)"); exit 75 }
      Start-Sleep -Milliseconds 100
    }
  }
}
`;

function script(tag: string, body: string): string[] {
  return psScriptArgv(`# pulumi-qemu ${tag}\n${WINDOWS_VM_FUNCTIONS}${body}`);
}

/** For each VM in turn: `vm=<index>`, then its observation. */
export function observeScriptArgv(targets: ObserveTarget[]): string[] {
  return script("observe", `$vms = @(${targets.map(vmLiteral).join(",\n  ")})
for ($i = 0; $i -lt $vms.Count; $i++) { "vm=$i"; Write-Observation $vms[$i] }
exit 0
`);
}

/**
 * Under the VM's lock: prints existing=1 and the observation when our instance runs. Else
 * picks a free loopback port for QMP, starts QEMU detached, and waits until it has written its
 * pidfile (exit 71 with QEMU's log when it ends first); then records the port, the spec, the
 * PID and creation time, removes other seed images, and prints existing=0 and the observation.
 */
export function startScriptArgv(layout: VmLayout, name: string, specJson: string, qemuArgv: string[], keepSeed = ""): string[] {
  return script("start", String.raw`$vm = ${vmLiteral({ layout, name })}
$desired = ${psQuote(specJson)}
$keep = ${psQuote(keepSeed)}
$program = ${psQuote(qemuArgv[0])}
$arguments = ${psQuote(winJoin(qemuArgv.slice(1)))}
New-Item -ItemType Directory -Force -Path $vm.dir | Out-Null
$lock = Lock-Vm $vm
if (Test-Ours $vm (Get-Proc (Read-Pid $vm))) { 'existing=1'; Write-Observation $vm; exit 0 }
foreach ($f in @($vm.qmpport, $vm.pidfile, $vm.qemulog, $vm.identity)) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
# QMP on a loopback address other than 127.0.0.1: the guest's user-mode network reaches only that one (as 10.0.2.2).
$address = '127.{0}.{1}.{2}' -f (Get-Random -Minimum 1 -Maximum 255), (Get-Random -Minimum 0 -Maximum 256), (Get-Random -Minimum 1 -Maximum 255)
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse($address), 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
$exe = (Get-Command $program -CommandType Application | Select-Object -First 1).Source
$commandLine = '"' + $exe + '" ' + $arguments.Replace('${WINDOWS_QMP_ADDRESS}', $address).Replace('${WINDOWS_QMP_PORT}', [string]$port)
$created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $commandLine; CurrentDirectory = $vm.dir }
if ($created.ReturnValue -ne 0) { [Console]::Error.WriteLine("Win32_Process.Create returned $($created.ReturnValue) for $exe"); exit 71 }
$child = $created.ProcessId
# QEMU writes its pidfile once it has initialized; with -D its start errors go to its log.
$deadline = (Get-Date).AddSeconds(60)
while (-not (Test-Path -LiteralPath $vm.pidfile)) {
  if (-not (Get-Process -Id $child -ErrorAction SilentlyContinue)) {
    if (Test-Path -LiteralPath $vm.qemulog) { [Console]::Error.WriteLine((Read-Shared $vm.qemulog)) }
    [Console]::Error.WriteLine("QEMU (pid $child) exited before writing its pidfile"); exit 71
  }
  if ((Get-Date) -gt $deadline) { Stop-Process -Id $child -Force; [Console]::Error.WriteLine("QEMU (pid $child) wrote no pidfile within 60 s; stopped it"); exit 71 }
  Start-Sleep -Milliseconds 50
}
[IO.File]::WriteAllText($vm.qmpport, "${"$"}{address}:$port")
[IO.File]::WriteAllText($vm.spec + '.tmp', $desired + "` + "`n" + String.raw`")
Move-Item -LiteralPath ($vm.spec + '.tmp') -Destination $vm.spec -Force
Get-ChildItem -LiteralPath $vm.dir -Filter 'cidata-*.iso' -File | Where-Object { $_.FullName.Replace('\', '/') -ne $keep.Replace('\', '/') } | Remove-Item -Force
for ($i = 0; $i -lt 200 -and -not (Get-RunState $vm); $i++) { Start-Sleep -Milliseconds 10 }
$proc = Get-Proc $child
if ($proc) { [IO.File]::WriteAllText($vm.identity, "$child $(Get-Started $proc)") }
'existing=0'; Write-Observation $vm
`);
}

/** Ends our instance only (Windows has no SIGTERM: both rungs terminate it); prints signalled=0|1. */
export function signalScriptArgv(layout: VmLayout, name: string): string[] {
  return script("signal", `$vm = ${vmLiteral({ layout, name })}
$proc = Get-Proc (Read-Pid $vm)
if (Test-Ours $vm $proc) { Stop-Process -Id $proc.ProcessId -Force; 'signalled=1'; exit 0 }
'signalled=0'
`);
}

/** After the instance is gone: removes its QMP port file, pidfile and identity (with "all", the whole state directory). */
export function cleanupScriptArgv(layout: VmLayout, name: string, what: "runtime" | "all"): string[] {
  return script("cleanup", `$vm = ${vmLiteral({ layout, name })}
if (-not (Test-Path -LiteralPath $vm.dir)) { exit 0 }
$lock = Lock-Vm $vm
$qpid = Read-Pid $vm
if (Test-Ours $vm (Get-Proc $qpid)) { [Console]::Error.WriteLine("the VM is still running (pid $qpid); not removing its files"); exit 72 }
foreach ($f in @($vm.qmpport, $vm.pidfile, $vm.identity)) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
if (${psQuote(what)} -eq 'all') { $lock.Close(); Remove-Item -LiteralPath $vm.dir -Recurse -Force }
exit 0
`);
}

/** The started spec of every VM under a state root, as "dir<TAB>json" lines (observe.listStartedSpecs). */
export function listSpecsScriptArgv(stateRoot: string): string[] {
  return script("list-specs", String.raw`$root = ${psQuote(stateRoot)}
if (-not (Test-Path -LiteralPath $root)) { exit 0 }
foreach ($d in (Get-ChildItem -LiteralPath $root -Directory)) {
  $f = Join-Path $d.FullName 'spec.json'
  if (Test-Path -LiteralPath $f) { $d.FullName.Replace('\', '/') + "` + "`t" + String.raw`" + ((Get-Content -Raw -LiteralPath $f) -replace '\r?\n', '') }
}
exit 0
`);
}
