# shellcheck disable=SC2317,SC2154,SC2034
EXIT_LOCK_TIMEOUT=75
# <file: vm-lib.sh>
# <file: vm-process.sh>

# $0 and arguments: ["pulumi-qemu-vm-process","4242"]
