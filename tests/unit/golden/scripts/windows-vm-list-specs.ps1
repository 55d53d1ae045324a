# <file: prelude.ps1>
# pulumi-qemu vm-list-specs
$root = 'C:/Users/ops/My VMs/vms'
# <file: vm-list-specs.ps1>
