# <file: prelude.ps1>
# pulumi-qemu disk-overlays
$path = 'C:/VMs/disks/base.qcow2'
$dirs = @('C:/VMs', 'C:/VMs/disks')
# <file: disk-overlays.ps1>
