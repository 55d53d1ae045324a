# shellcheck disable=SC2317,SC2154,SC2034
EXIT_LOCK_TIMEOUT=75
# <file: vm-lib.sh>
# <file: vm-observe.sh>

# $0 and arguments: ["pulumi-qemu-vm-observe","web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","db","/Users/ops/.pulumi-qemu/vms/db/qemu.pid","/Users/ops/.pulumi-qemu/vms/db/qmp.sock","/Users/ops/.pulumi-qemu/vms/db/spec.json","/Users/ops/.pulumi-qemu/vms/db/qemu.log","/Users/ops/.pulumi-qemu/vms/db/qemu.identity"]
