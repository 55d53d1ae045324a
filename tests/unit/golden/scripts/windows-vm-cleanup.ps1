# <windows-prelude>
# pulumi-qemu cleanup
# <windows-vm-functions>
$vm = @{ name = 'web'; dir = 'C:/Users/ops/My VMs/vms/web'; pidfile = 'C:/Users/ops/My VMs/vms/web/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/web/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/web/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/web/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/web/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/web/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/web/lock' }
if (-not (Test-Path -LiteralPath $vm.dir)) { exit 0 }
$lock = Lock-Vm $vm
$qpid = Read-Pid $vm
if (Test-Ours $vm (Get-Proc $qpid)) { [Console]::Error.WriteLine("the VM is still running (pid $qpid); not removing its files"); exit 72 }
foreach ($f in @($vm.qmpport, $vm.pidfile, $vm.identity)) { if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Force } }
if ('all' -eq 'all') { $lock.Close(); Remove-Item -LiteralPath $vm.dir -Recurse -Force }
exit 0
