# For each VM in turn (six arguments each: name, pidfile, QMP socket, started spec, QEMU's log,
# identity): `vm=<index>`, then its observation. One round trip for any number of VMs of one host.
i=0
while [ "$#" -ge 6 ]; do
  name=$1; pidfile=$2; sock=$3; spec=$4; qemulog=$5; identity=$6; shift 6
  echo "vm=$i"; i=$((i + 1))
  print_observation
done
exit 0
