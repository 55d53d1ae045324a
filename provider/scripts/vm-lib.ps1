# Functions of the Windows VM scripts, twins of vm-lib.sh with the same key=value output. A
# process counts as the VM's only if its PID and creation time are those recorded at start, or
# its command line (Win32_Process) has `guest=NAME` and `-pidfile PIDFILE`. $vm: a hashtable of
# the VM's name and state-directory files.
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
  $owner = Join-Path (Split-Path -Parent $vm.spec) 'owner'
  if (Test-Path -LiteralPath $owner) { 'owner=' + [string](Get-Content -LiteralPath $owner -TotalCount 1) }
}
# The VM's lock: the lock file opened without sharing, held until this script ends.
function Lock-Vm($vm) {
  $deadline = (Get-Date).AddSeconds(120)
  while ($true) {
    try { return [IO.File]::Open($vm.lock, 'OpenOrCreate', 'ReadWrite', 'None') } catch [IO.IOException] {
      if ((Get-Date) -gt $deadline) { [Console]::Error.WriteLine("waited 120 s for the VM's lock $($vm.lock)"); exit $EXIT_LOCK_TIMEOUT }
      Start-Sleep -Milliseconds 100
    }
  }
}
