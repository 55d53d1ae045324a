#!/usr/bin/env bash
# Builds the testbed's real guest from Debian packages: a Debian bookworm cloud image (cloud
# kernel, systemd with dbus (logind: ACPI power button, shutdown), cloud-init, openssh-server,
# qemu-guest-agent) that boots from its own disk
# with its own boot loader, as a published cloud image does: an MBR, syslinux on a small FAT
# boot partition, an ext4 root. No loop device or mount: mmdebstrap makes the tree, mke2fs -d
# and mtools make the file systems, sfdisk the partition table. Written as a compressed qcow2 with
# its sha256 beside it, cached in $CACHE/debian and rebuilt only when this recipe changes.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/common.sh"
OUT="$CACHE/debian"
IMAGE="$OUT/debian-12-pulumi-qemu.qcow2"
RECIPE_ID="$(sha256sum < "$HERE/debian-image.sh" | cut -c1-16)"
if [ -f "$OUT/recipe" ] && [ "$(cat "$OUT/recipe")" = "$RECIPE_ID" ] && [ -f "$IMAGE" ]; then exit 0; fi

PKGS=(mmdebstrap syslinux syslinux-common mtools dosfstools fdisk e2fsprogs)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
fi

WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
log "building the Debian cloud image in $OUT (about a minute of downloads and installs)"
mmdebstrap --mode=root --variant=minbase \
  --include=linux-image-cloud-amd64,systemd-sysv,udev,dbus,cloud-init,openssh-server,qemu-guest-agent,ifupdown,isc-dhcp-client,iproute2,sudo,netbase,ca-certificates,locales \
  bookworm "$WORK/root" http://deb.debian.org/debian >"$WORK/mmdebstrap.log" 2>&1 || { tail -n 30 "$WORK/mmdebstrap.log" >&2; exit 1; }

R="$WORK/root"
ROOT_UUID="$(cat /proc/sys/kernel/random/uuid)"
echo "UUID=$ROOT_UUID / ext4 defaults,errors=remount-ro 0 1" > "$R/etc/fstab"
echo debian > "$R/etc/hostname"
# Each boot of a copy is a new machine: systemd makes the machine-id, cloud-init the host keys.
: > "$R/etc/machine-id"; rm -f "$R/var/lib/dbus/machine-id" "$R"/etc/ssh/ssh_host_*
printf 'auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n' > "$R/etc/network/interfaces"
# Only the NoCloud seed: no network metadata services to wait for (there is no network to reach them).
echo 'datasource_list: [ NoCloud, None ]' > "$R/etc/cloud/cloud.cfg.d/90-pulumi-qemu.cfg"
# cloud-init's locale module sets en_US.UTF-8 unless the system has it already (and then fails
# to, with a warning on the console that readiness.cloudInit would count as a failure).
sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' "$R/etc/locale.gen"
chroot "$R" locale-gen >/dev/null
echo LANG=en_US.UTF-8 > "$R/etc/default/locale"
KVER="$(basename "$R"/boot/vmlinuz-* | sed 's/^vmlinuz-//')"

# The boot partition: syslinux, the kernel and the initramfs.
BOOT_MIB=96
mkfs.vfat -n BOOT -C "$WORK/boot.vfat" $((BOOT_MIB * 1024)) >/dev/null
cat > "$WORK/syslinux.cfg" <<CFG
DEFAULT debian
TIMEOUT 0
LABEL debian
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND root=UUID=$ROOT_UUID ro console=ttyS0 no_timer_check
CFG
cp "$R/boot/vmlinuz-$KVER" "$WORK/vmlinuz"; cp "$R/boot/initrd.img-$KVER" "$WORK/initrd.img"
mcopy -i "$WORK/boot.vfat" "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/syslinux.cfg" ::/
syslinux --install "$WORK/boot.vfat"

# The root file system, made from the tree as it is (owners and modes kept: this runs as root).
ROOT_MIB=1900
mke2fs -q -t ext4 -U "$ROOT_UUID" -L root -d "$R" "$WORK/root.ext4" "${ROOT_MIB}M"

# The disk: an MBR with syslinux's boot code, partition 1 (FAT, active) and partition 2 (ext4).
DISK="$WORK/disk.raw"
truncate -s $(((1 + BOOT_MIB + ROOT_MIB) * 1024 * 1024)) "$DISK"
printf 'label: dos\nstart=2048, size=%s, type=c, bootable\nstart=%s, size=%s, type=83\n' \
  $((BOOT_MIB * 2048)) $(((1 + BOOT_MIB) * 2048)) $((ROOT_MIB * 2048)) | sfdisk -q "$DISK"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$DISK" bs=440 count=1 conv=notrunc status=none
dd if="$WORK/boot.vfat" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$DISK" bs=1M seek=$((1 + BOOT_MIB)) conv=notrunc,sparse status=none

mkdir -p "$OUT"
qemu-img convert -q -c -f raw -O qcow2 "$DISK" "$IMAGE.tmp"
sha256sum "$IMAGE.tmp" | cut -d' ' -f1 > "$IMAGE.sha256"
mv "$IMAGE.tmp" "$IMAGE"
echo "$RECIPE_ID" > "$OUT/recipe"
log "built $IMAGE ($(du -h "$IMAGE" | cut -f1), kernel $KVER)"
