# <file: prelude.ps1>
# pulumi-qemu head
$path = 'C:/VMs/base.img'
$bytes = 65536
# <file: head.ps1>
