# shellcheck disable=SC2317,SC2154,SC2034
# shellcheck disable=SC2154
EXIT_CANNOT_WRITE=70
EXIT_LOCK_TIMEOUT=75
# <file: vm-lib.sh>
# <file: ports-take.sh>

# $0 and arguments: ["pulumi-qemu-ports-take","","/Users/ops/.pulumi-qemu/vms/web.0a1b2c3d","20000","29999","tcp","udp"]
