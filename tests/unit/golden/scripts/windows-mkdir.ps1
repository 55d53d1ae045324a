# <file: prelude.ps1>
# pulumi-qemu private-dir
$dir = 'C:/VMs/new dir'
# <file: private-dir.ps1>
