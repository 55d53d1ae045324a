# <file: prelude.ps1>
# pulumi-qemu vm-observe
$vms = @(@{ name = 'web'; dir = 'C:/Users/ops/My VMs/vms/web'; pidfile = 'C:/Users/ops/My VMs/vms/web/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/web/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/web/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/web/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/web/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/web/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/web/lock' }, @{ name = 'db'; dir = 'C:/Users/ops/My VMs/vms/db'; pidfile = 'C:/Users/ops/My VMs/vms/db/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/db/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/db/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/db/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/db/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/db/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/db/lock' })
$EXIT_LOCK_TIMEOUT = 75
# <file: vm-lib.ps1>
# <file: vm-observe.ps1>
