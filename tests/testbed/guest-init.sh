#!/bin/busybox sh
# /init of the test guest: mounts, networking, dropbear, then the ready marker on serial.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
  insmod /lib/mods/$m.ko
done
ip link set lo up
if ip link set eth0 up 2>/dev/null; then
  ip addr add 10.0.2.15/24 dev eth0
  ip route add default via 10.0.2.2
  /sbin/dropbear -R -E -p 22 2>/var/log/dropbear.log
fi
echo "PULUMI-QEMU-GUEST-READY"
# ACPI power button (QMP system_powerdown) ends the guest cleanly.
trap 'poweroff -f' TERM USR2
while :; do sleep 3600; done
