# <posix-vm-functions>

i=0
while [ "$#" -ge 6 ]; do
  name=$1; pidfile=$2; sock=$3; spec=$4; qemulog=$5; identity=$6; shift 6
  echo "vm=$i"; i=$((i + 1))
  print_observation
done
exit 0

# $0 and arguments: ["pulumi-qemu-observe","web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","db","/Users/ops/.pulumi-qemu/vms/db/qemu.pid","/Users/ops/.pulumi-qemu/vms/db/qmp.sock","/Users/ops/.pulumi-qemu/vms/db/spec.json","/Users/ops/.pulumi-qemu/vms/db/qemu.log","/Users/ops/.pulumi-qemu/vms/db/qemu.identity"]
