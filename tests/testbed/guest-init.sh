#!/bin/busybox sh
# /init of the test guest: mounts, networking, dropbear, then the ready marker on serial.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for m in $(cat /lib/mods/order); do
  insmod /lib/mods/$m.ko
done
# A cloud-init NoCloud seed (an ISO 9660 disk labelled cidata), read by a tiny stand-in for
# cloud-init: the hostname from meta-data, and a '#!' user-data script run once at boot.
mkdir -p /run/cidata
for d in /dev/vd?; do
  [ -b "$d" ] && mount -t iso9660 -o ro "$d" /run/cidata 2>/dev/null || continue
  [ -f /run/cidata/meta-data ] && break
  umount /run/cidata
done
if [ -f /run/cidata/meta-data ]; then
  h=$(sed -n 's/^local-hostname: *//p' /run/cidata/meta-data | head -n1)
  [ -n "$h" ] && hostname "$h"
  echo "PULUMI-QEMU-GUEST-CIDATA $(sed -n 's/^instance-id: *//p' /run/cidata/meta-data)"
  # Its result where cloud-init writes its own (readiness.cloudInit reads it through the guest agent).
  errors='[]'
  case "$(head -c2 /run/cidata/user-data)" in
    '#!') sh /run/cidata/user-data >/run/user-data.log 2>&1 || errors="[\"('scripts-user', 'the user-data script exited with $?')\"]" ;;
  esac
  mkdir -p /run/cloud-init
  printf '{"v1": {"datasource": "the test guest'"'"'s NoCloud stand-in", "errors": %s}}\n' "$errors" > /run/cloud-init/result.json
fi
ip link set lo up
# A private network's address from the kernel command line (pulumi-qemu.ip=ADDR/PREFIX, as a
# Fleet on a Network gives it): on the NIC whose MAC the address makes (52:54 and its octets).
private_macs=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    pulumi-qemu.ip=*)
      cidr="${arg#pulumi-qemu.ip=}"
      mac=$(echo "${cidr%/*}" | awk -F. '{printf "52:54:%02x:%02x:%02x:%02x", $1, $2, $3, $4}')
      private_macs="$private_macs $mac"
      for n in /sys/class/net/*; do
        [ "$(cat "$n/address")" = "$mac" ] && ip link set "${n##*/}" up && ip addr add "$cidr" dev "${n##*/}"
      done ;;
  esac
done
# User-mode networking on the first NIC that is not a private network's (none: a private network only).
for n in /sys/class/net/eth*; do
  [ -e "$n" ] || continue
  case "$private_macs" in *"$(cat "$n/address")"*) continue ;; esac
  ip link set "${n##*/}" up
  ip addr add 10.0.2.15/24 dev "${n##*/}"
  ip route add default via 10.0.2.2
  /sbin/dropbear -R -E -p 22 2>/var/log/dropbear.log
  break
done
# The QEMU guest agent, when the VM has its port (Vm guestAgent): found by the port's name.
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && mkdir -p /var/run && /sbin/qemu-ga -d -F/sbin/fsfreeze-hook -m virtio-serial -p "/dev/${p##*/}" -l /var/log/qemu-ga.log
done
echo "PULUMI-QEMU-GUEST-READY"
# ACPI power button (QMP system_powerdown) ends the guest cleanly.
trap 'poweroff -f' TERM USR2
while :; do sleep 3600; done
