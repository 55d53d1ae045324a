# shellcheck disable=SC2317,SC2154,SC2034
EXIT_CANNOT_WRITE=70
EXIT_QEMU_FAILED=71
EXIT_LOCK_TIMEOUT=75
QEMU_PATH=/usr/local/bin:/opt/homebrew/bin:/opt/local/bin
# <file: vm-args.sh>
# <file: vm-lib.sh>
# <file: vm-start.sh>

# $0 and arguments: ["pulumi-qemu-vm-start","web","/Users/ops/.pulumi-qemu/vms/web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/start.log","/Users/ops/.pulumi-qemu/vms/web/lock","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","/Users/ops/.pulumi-qemu/vms/web/qga.sock","{\"name\":\"web\"}","/Users/ops/.pulumi-qemu/vms/web/cidata-0123456789abcdef.iso","qemu-system-x86_64","-name","guest=web","-daemonize"]
