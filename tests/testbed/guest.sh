#!/usr/bin/env bash
# Builds the tiny test guest from Debian packages: a cloud kernel and a busybox initramfs
# that brings up virtio networking, starts dropbear on port 22 and the QEMU guest agent on its
# virtio-serial port, and prints a ready marker on the serial console. Cached in $GUEST_DIR; rebuilt only when this recipe changes.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/common.sh"
# An empty 16 MiB disk: the base image of the fleet example (the guest boots from its kernel).
[ -f "$GUEST_DIR/base.qcow2" ] || { mkdir -p "$GUEST_DIR"; qemu-img create -q -f qcow2 "$GUEST_DIR/base.qcow2" 16M; }
RECIPE_ID="$(cat "$HERE/guest.sh" "$HERE/guest-init.sh" | sha256sum | cut -c1-16)"
if [ -f "$GUEST_DIR/recipe" ] && [ "$(cat "$GUEST_DIR/recipe")" = "$RECIPE_ID" ]; then exit 0; fi

WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
mkdir -p "$GUEST_DIR"
log "building the test guest in $GUEST_DIR"

# The kernel: whatever linux-image-cloud-amd64 depends on today.
KPKG="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
if [ -z "$KPKG" ]; then apt-get update -qq >&2; KPKG="$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"; fi
[ -n "$KPKG" ] || { log "cannot find the cloud kernel package"; exit 1; }
(cd "$WORK" && apt-get download "$KPKG" >&2)
dpkg -x "$WORK"/"$KPKG"_*.deb "$WORK/k"
cp "$WORK"/k/boot/vmlinuz-* "$WORK/vmlinuz"

R="$WORK/root"
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,root/.ssh,etc/dropbear,lib/mods,var/log}
cp /bin/busybox "$R/bin/busybox"
# Networking, virtio disks and ISO 9660 (for cloud-init seeds), in load order: modular in the cloud kernel.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk virtio_console cdrom isofs"
echo "$MODULES" > "$R/lib/mods/order"
for m in $MODULES; do
  f="$(find "$WORK/k/lib/modules" -name "$m.ko*" | head -n1)"
  [ -n "$f" ] || { log "module $m not found in $KPKG"; exit 1; }
  case "$f" in
    *.xz) xz -dc "$f" > "$R/lib/mods/$m.ko" ;;
    *.zst) zstd -dqc "$f" > "$R/lib/mods/$m.ko" ;;
    *) cp "$f" "$R/lib/mods/$m.ko" ;;
  esac
done
# dropbear and the shared libraries it links against, copied from this host.
cp /usr/sbin/dropbear "$R/sbin/dropbear"
for lib in $(ldd /usr/sbin/dropbear | grep -o '/[^ ]*'); do
  mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
done
# The QEMU guest agent, from Debian's package (the version of this host's QEMU), with its libraries.
(cd "$WORK" && apt-get download qemu-guest-agent >&2 2>/dev/null) || { apt-get update -qq >&2; (cd "$WORK" && apt-get download qemu-guest-agent >&2); }
dpkg -x "$WORK"/qemu-guest-agent_*.deb "$WORK/qga"
cp "$WORK/qga/usr/sbin/qemu-ga" "$R/sbin/qemu-ga"
for lib in $(ldd "$R/sbin/qemu-ga" | grep -o '/[^ ]*'); do
  mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
done
# guest-shutdown runs /sbin/shutdown (busybox has none): power off at once.
printf '#!/bin/sh\nsync\nexec /bin/busybox poweroff -f\n' > "$R/sbin/shutdown"; chmod 755 "$R/sbin/shutdown"
# Run by the agent around a file-system freeze (Vm snapshots): a record the tests read.
printf '#!/bin/sh\necho "$1" >> /run/fsfreeze.log\n' > "$R/sbin/fsfreeze-hook"; chmod 755 "$R/sbin/fsfreeze-hook"
printf 'ID=pulumi-qemu-test\nNAME="pulumi-qemu test guest"\nPRETTY_NAME="pulumi-qemu test guest (busybox)"\nVERSION_ID=1\n' > "$R/etc/os-release"
# A key pair that the tests use to log in to the guest as root.
[ -f "$GUEST_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C pulumi-qemu-guest -f "$GUEST_DIR/id_ed25519"
cp "$GUEST_DIR/id_ed25519.pub" "$R/root/.ssh/authorized_keys"
chmod 700 "$R/root" "$R/root/.ssh"; chmod 600 "$R/root/.ssh/authorized_keys"
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
echo 'root:x:0:' > "$R/etc/group"
echo '/bin/sh' > "$R/etc/shells"
install -m 755 "$HERE/guest-init.sh" "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -6) > "$WORK/initramfs.gz"

mv "$WORK/vmlinuz" "$GUEST_DIR/vmlinuz"
mv "$WORK/initramfs.gz" "$GUEST_DIR/initramfs.gz"
echo "$KPKG" > "$GUEST_DIR/kernel-package"
echo "$RECIPE_ID" > "$GUEST_DIR/recipe"
log "guest ready: $GUEST_DIR/vmlinuz, $GUEST_DIR/initramfs.gz ($KPKG)"
