# <file: prelude.ps1>
# pulumi-qemu disk-move-if-absent
$temp = 'C:/VMs/base.img.upload-1a2b'
$path = 'C:/VMs/base.img'
# <file: disk-move-if-absent.ps1>
