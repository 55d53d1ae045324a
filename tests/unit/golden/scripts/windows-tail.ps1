# <file: prelude.ps1>
# pulumi-qemu tail
$path = 'C:/VMs/vms/web/serial.log'
$bytes = 65536
# <file: tail.ps1>
