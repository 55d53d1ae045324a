# <windows-prelude>
# pulumi-qemu signal
# <windows-vm-functions>
$vm = @{ name = 'web'; dir = 'C:/Users/ops/My VMs/vms/web'; pidfile = 'C:/Users/ops/My VMs/vms/web/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/web/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/web/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/web/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/web/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/web/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/web/lock' }
$proc = Get-Proc (Read-Pid $vm)
if (Test-Ours $vm $proc) { Stop-Process -Id $proc.ProcessId -Force; 'signalled=1'; exit 0 }
'signalled=0'
