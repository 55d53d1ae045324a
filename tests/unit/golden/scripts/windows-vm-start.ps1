$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$env:Path = $env:Path + ';' + $env:ProgramFiles + '\qemu'
# pulumi-qemu start

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
$vm = @{ name = 'web'; dir = 'C:/Users/ops/My VMs/vms/web'; pidfile = 'C:/Users/ops/My VMs/vms/web/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/web/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/web/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/web/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/web/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/web/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/web/lock' }
$desired = '{"name":"web","note":"it''s"}'
$keep = 'C:/Users/ops/My VMs/vms/web/cidata-0123456789abcdef.iso'
$program = 'qemu-system-x86_64'
$arguments = '-name guest=web -pidfile "C:/Users/ops/My VMs/vms/web/qemu.pid" -qmp tcp:127.0.0.1:@QMP_PORT@,server=on,wait=off'
New-Item -ItemType Directory -Force -Path $vm.dir | Out-Null
$lock = Lock-Vm $vm
if (Test-Ours $vm (Get-Proc (Read-Pid $vm))) { 'existing=1'; Write-Observation $vm; exit 0 }
foreach ($f in @($vm.qmpport, $vm.pidfile, $vm.qemulog, $vm.identity)) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
$exe = (Get-Command $program -CommandType Application | Select-Object -First 1).Source
$commandLine = '"' + $exe + '" ' + $arguments.Replace('@QMP_PORT@', [string]$port)
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
[IO.File]::WriteAllText($vm.qmpport, [string]$port)
[IO.File]::WriteAllText($vm.spec + '.tmp', $desired + "`n")
Move-Item -LiteralPath ($vm.spec + '.tmp') -Destination $vm.spec -Force
Get-ChildItem -LiteralPath $vm.dir -Filter 'cidata-*.iso' -File | Where-Object { $_.FullName.Replace('\', '/') -ne $keep.Replace('\', '/') } | Remove-Item -Force
for ($i = 0; $i -lt 200 -and -not (Get-RunState $vm); $i++) { Start-Sleep -Milliseconds 10 }
$proc = Get-Proc $child
if ($proc) { [IO.File]::WriteAllText($vm.identity, "$child $(Get-Started $proc)") }
'existing=0'; Write-Observation $vm
