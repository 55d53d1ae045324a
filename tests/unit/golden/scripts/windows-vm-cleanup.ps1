# <file: prelude.ps1>
# pulumi-qemu vm-cleanup
$vm = @{ name = 'web'; dir = 'C:/Users/ops/My VMs/vms/web'; pidfile = 'C:/Users/ops/My VMs/vms/web/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/web/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/web/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/web/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/web/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/web/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/web/lock' }
$what = 'all'
$EXIT_STILL_RUNNING = 72
$EXIT_LOCK_TIMEOUT = 75
# <file: vm-lib.ps1>
# <file: vm-cleanup.ps1>
