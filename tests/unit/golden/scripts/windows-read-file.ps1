# <file: prelude.ps1>
# pulumi-qemu read-file
$path = 'C:/Users/ops/My VMs/vms/web/qmp.port'
# <file: read-file.ps1>
