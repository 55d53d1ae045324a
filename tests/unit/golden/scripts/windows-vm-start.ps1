# <file: prelude.ps1>
# pulumi-qemu vm-start
$vm = @{ name = 'web'; dir = 'C:/Users/ops/My VMs/vms/web'; pidfile = 'C:/Users/ops/My VMs/vms/web/qemu.pid'; pidfileArg = '"C:/Users/ops/My VMs/vms/web/qemu.pid"'; qmpport = 'C:/Users/ops/My VMs/vms/web/qmp.port'; spec = 'C:/Users/ops/My VMs/vms/web/spec.json'; qemulog = 'C:/Users/ops/My VMs/vms/web/qemu.log'; identity = 'C:/Users/ops/My VMs/vms/web/qemu.identity'; lock = 'C:/Users/ops/My VMs/vms/web/lock' }
$desired = '{"name":"web","note":"it''s"}'
$keep = 'C:/Users/ops/My VMs/vms/web/cidata-0123456789abcdef.iso'
$program = 'qemu-system-x86_64'
$arguments = '-name guest=web -pidfile "C:/Users/ops/My VMs/vms/web/qemu.pid" -qmp tcp:127.0.0.1:@QMP_PORT@,server=on,wait=off'
$qmpAddressPlaceholder = '@QMP_ADDRESS@'
$qmpPortPlaceholder = '@QMP_PORT@'
$EXIT_QEMU_FAILED = 71
$EXIT_LOCK_TIMEOUT = 75
# <file: vm-lib.ps1>
# <file: vm-start.ps1>
