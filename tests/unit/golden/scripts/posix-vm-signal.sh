# shellcheck disable=SC2317,SC2154,SC2034
EXIT_LOCK_TIMEOUT=75
# <file: vm-args.sh>
# <file: vm-lib.sh>
# <file: vm-signal.sh>

# $0 and arguments: ["pulumi-qemu-vm-signal","web","/Users/ops/.pulumi-qemu/vms/web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/start.log","/Users/ops/.pulumi-qemu/vms/web/lock","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","/Users/ops/.pulumi-qemu/vms/web/qga.sock","TERM"]
