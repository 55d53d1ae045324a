# <file: prelude.ps1>
# pulumi-qemu write-file
$path = 'C:/Users/ops/My VMs/.pulumi-qemu-probe/x.json'
$bytes = 42
$suffix = 'abc123'
# <file: write-file.ps1>
