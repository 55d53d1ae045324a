# <file: prelude.ps1>
# pulumi-qemu disk-remove-upload
$temp = 'C:/VMs/base.img.upload-1a2b'
# <file: disk-remove-upload.ps1>
