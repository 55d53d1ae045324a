# <file: prelude.ps1>
# pulumi-qemu facts
$workDir = 'C:/Users/ops/My VMs'
$probeCacheDir = '.pulumi-qemu-probe'
$hypervisorServices = @('intelhaxm', 'aehd', 'gvm')
$archNames = @{ AMD64 = 'x86_64'; ARM64 = 'aarch64'; x86 = 'i386' }
$nativeBinaries = @{ x86_64 = 'qemu-system-x86_64'; amd64 = 'qemu-system-x86_64'; i386 = 'qemu-system-i386'; aarch64 = 'qemu-system-aarch64'; arm64 = 'qemu-system-aarch64'; riscv64 = 'qemu-system-riscv64'; ppc64le = 'qemu-system-ppc64'; s390x = 'qemu-system-s390x' }
# <file: facts.ps1>
