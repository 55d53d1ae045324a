# <file: atomic-write.sh>

# $0 and arguments: ["pulumi-qemu-atomic-write","/Users/ops/.pulumi-qemu/.pulumi-qemu-probe/x.json","42","600","abc123"]
