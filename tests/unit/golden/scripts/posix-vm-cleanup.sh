# shellcheck disable=SC2317,SC2154,SC2034
name=$1; dir=$2; pidfile=$3; sock=$4; spec=$5; startlog=$6; lock=$7; qemulog=$8; identity=$9; shift 9
# <posix-vm-functions>

[ -d "$dir" ] || exit 0
take_lock
read_pid
if is_ours "$pid"; then echo "the VM is still running (pid $pid); not removing its files" >&2; exit 72; fi
rm -f -- "$sock" "$pidfile" "$identity"
if [ "$1" = all ]; then rm -rf -- "$dir"; fi
exit 0

# $0 and arguments: ["pulumi-qemu-vm","web","/Users/ops/.pulumi-qemu/vms/web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/start.log","/Users/ops/.pulumi-qemu/vms/web/lock","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","all"]
