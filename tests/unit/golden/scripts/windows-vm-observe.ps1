# <windows-prelude>
# pulumi-qemu observe
# <windows-vm-functions>
$vms = @(@{ name = 'web'; dir = 'C:/Users/ops/My VMs/vms/web'; pidfile = 'C:/Users/ops/My VMs/vms/web/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/web/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/web/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/web/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/web/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/web/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/web/lock' },
  @{ name = 'db'; dir = 'C:/Users/ops/My VMs/vms/db'; pidfile = 'C:/Users/ops/My VMs/vms/db/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/db/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/db/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/db/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/db/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/db/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/db/lock' })
for ($i = 0; $i -lt $vms.Count; $i++) { "vm=$i"; Write-Observation $vms[$i] }
exit 0
