# shellcheck disable=SC2317,SC2154,SC2034
name=$1; dir=$2; pidfile=$3; sock=$4; spec=$5; startlog=$6; lock=$7; qemulog=$8; identity=$9; shift 9
# <posix-vm-functions>

read_pid
if is_ours "$pid"; then kill -"$1" "$pid" && echo signalled=1 && exit 0; fi
echo signalled=0

# $0 and arguments: ["pulumi-qemu-vm","web","/Users/ops/.pulumi-qemu/vms/web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/start.log","/Users/ops/.pulumi-qemu/vms/web/lock","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","TERM"]
