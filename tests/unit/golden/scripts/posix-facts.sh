PROBE_CACHE_DIR=.pulumi-qemu-probe
NATIVE_BINARIES='x86_64=qemu-system-x86_64 amd64=qemu-system-x86_64 i386=qemu-system-i386 aarch64=qemu-system-aarch64 arm64=qemu-system-aarch64 riscv64=qemu-system-riscv64 ppc64le=qemu-system-ppc64 s390x=qemu-system-s390x'
QEMU_DIRS='/usr/local/bin /opt/homebrew/bin /opt/local/bin'
# <file: facts.sh>

# $0 and arguments: ["pulumi-qemu-facts","/Users/ops/.pulumi-qemu"]
