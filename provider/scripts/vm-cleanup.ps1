# After the instance is gone: removes its QMP port file, pidfile and identity; with $what = 'all',
# the whole state directory. Exits EXIT_STILL_RUNNING if it runs.
if (-not (Test-Path -LiteralPath $vm.dir)) { exit 0 }
$lock = Lock-Vm $vm
$qpid = Read-Pid $vm
if (Test-Ours $vm (Get-Proc $qpid)) { [Console]::Error.WriteLine("the VM is still running (pid $qpid); not removing its files"); exit $EXIT_STILL_RUNNING }
foreach ($f in @($vm.qmpport, $vm.pidfile, $vm.identity)) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
if ($what -eq 'all') { $lock.Close(); Remove-Item -LiteralPath $vm.dir -Recurse -Force }
exit 0
