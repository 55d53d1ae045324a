# <file: prelude.ps1>
# pulumi-qemu facts
$workDir = 'C:/Users/ops/My VMs'
$probeCacheDir = '.pulumi-qemu-probe'
$hypervisorServices = @('intelhaxm', 'aehd', 'gvm')
# <file: facts.ps1>
