# shellcheck disable=SC2317,SC2154,SC2034
name=$1; dir=$2; pidfile=$3; sock=$4; spec=$5; startlog=$6; lock=$7; qemulog=$8; identity=$9; shift 9
# <posix-vm-functions>

handpid=$1; checked=$2; desired=$3; handsock=$4
[ -d "$dir" ] || mkdir -p "$dir" || exit 70
take_lock
read_pid
if is_ours "$pid"; then echo existing=1; print_observation; exit 0; fi
proc_state "$handpid"
[ -n "$started" ] && [ "$started" = "$checked" ] || exit 73
printf '%s\n' "$handpid" > "$pidfile.tmp" && mv -f -- "$pidfile.tmp" "$pidfile"
printf '%s %s\n' "$handpid" "$started" > "$identity"
printf '%s\n' "$desired" > "$spec.tmp" && mv -f -- "$spec.tmp" "$spec"
rm -f -- "$sock"
[ -n "$handsock" ] && ln -s -- "$handsock" "$sock"
echo existing=0; print_observation

# $0 and arguments: ["pulumi-qemu-vm","web","/Users/ops/.pulumi-qemu/vms/web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/start.log","/Users/ops/.pulumi-qemu/vms/web/lock","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","4242","Mon Nov 30 03:00:00 2026","{\"name\":\"web\"}","/tmp/hand.sock"]
