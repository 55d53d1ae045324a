# shellcheck disable=SC2317,SC2154,SC2034
# shellcheck disable=SC2154
EXIT_CANNOT_WRITE=70
EXIT_LOCK_TIMEOUT=75
EXIT_NO_CAPACITY=76
# <file: vm-lib.sh>
# <file: capacity-reserve.sh>

# $0 and arguments: ["pulumi-qemu-capacity-reserve","","cd4c1f01569e3b3d872fb437","/Users/ops/.pulumi-qemu/vms/web.0a1b2c3d","1073741824","2","100","project lab, stack ci, resource web (VM web)"]
