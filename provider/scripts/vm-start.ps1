# Under the VM's lock: prints existing=1 and the observation when our instance runs. Else picks
# a free loopback port for QMP, starts QEMU ($program with $arguments) detached with
# Win32_Process.Create, outside the SSH session's job object (whose processes Windows OpenSSH
# ends when the session closes), and waits until it has written its pidfile (exit
# EXIT_QEMU_FAILED with QEMU's log when it ends first); then records the port, the spec
# ($desired), the PID and creation time, removes seed images other than $keep, and prints
# existing=0 and the observation.
New-Item -ItemType Directory -Force -Path $vm.dir | Out-Null
$lock = Lock-Vm $vm
if (Test-Ours $vm (Get-Proc (Read-Pid $vm))) { 'existing=1'; Write-Observation $vm; exit 0 }
foreach ($f in @($vm.qmpport, $vm.pidfile, $vm.qemulog, $vm.identity)) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
# QMP on a loopback address other than 127.0.0.1: the guest's user-mode network reaches only that one (as 10.0.2.2).
$address = '127.{0}.{1}.{2}' -f (Get-Random -Minimum 1 -Maximum 255), (Get-Random -Minimum 0 -Maximum 256), (Get-Random -Minimum 1 -Maximum 255)
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse($address), 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
$exe = (Get-Command $program -CommandType Application | Select-Object -First 1).Source
$commandLine = '"' + $exe + '" ' + $arguments.Replace($qmpAddressPlaceholder, $address).Replace($qmpPortPlaceholder, [string]$port)
$created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $commandLine; CurrentDirectory = $vm.dir }
if ($created.ReturnValue -ne 0) { [Console]::Error.WriteLine("Win32_Process.Create returned $($created.ReturnValue) for $exe"); exit $EXIT_QEMU_FAILED }
$child = $created.ProcessId
# QEMU writes its pidfile once it has initialized; with -D its start errors go to its log.
$deadline = (Get-Date).AddSeconds(60)
while (-not (Test-Path -LiteralPath $vm.pidfile)) {
  if (-not (Get-Process -Id $child -ErrorAction SilentlyContinue)) {
    if (Test-Path -LiteralPath $vm.qemulog) { [Console]::Error.WriteLine((Read-Shared $vm.qemulog)) }
    [Console]::Error.WriteLine("QEMU (pid $child) exited before writing its pidfile"); exit $EXIT_QEMU_FAILED
  }
  if ((Get-Date) -gt $deadline) { Stop-Process -Id $child -Force; [Console]::Error.WriteLine("QEMU (pid $child) wrote no pidfile within 60 s; stopped it"); exit $EXIT_QEMU_FAILED }
  Start-Sleep -Milliseconds 50
}
[IO.File]::WriteAllText($vm.qmpport, "${address}:$port")
[IO.File]::WriteAllText($vm.spec + '.tmp', $desired + "`n")
Move-Item -LiteralPath ($vm.spec + '.tmp') -Destination $vm.spec -Force
Get-ChildItem -LiteralPath $vm.dir -Filter 'cidata-*.iso' -File | Where-Object { $_.FullName.Replace('\', '/') -ne $keep.Replace('\', '/') } | Remove-Item -Force
for ($i = 0; $i -lt 200 -and -not (Get-RunState $vm); $i++) { Start-Sleep -Milliseconds 10 }
$proc = Get-Proc $child
if ($proc) { [IO.File]::WriteAllText($vm.identity, "$child $(Get-Started $proc)") }
'existing=0'; Write-Observation $vm
