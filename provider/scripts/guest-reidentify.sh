# Run in a guest resumed from a WarmState (through the guest agent), so that it is itself and
# not the saved guest: the kernel RNG mixed with the host's randomness (on stdin), the clock,
# the hostname, /etc/machine-id, new SSH host keys (and the SSH server restarted on them), and
# each private NIC's MAC and address.
# Arguments: hostname, the host's time (seconds since the epoch), then per private NIC: the
# saved guest's MAC of it, its own MAC, its ADDRESS/PREFIX.
# Every program started costs much in a guest just resumed under TCG (its code is translated
# anew): builtins wherever they do.
name=$1; now=$2; shift 2
fail() { echo "$*" >&2; exit 1; }
IFS= read -r seed || fail "no randomness on stdin"
echo "$seed" > /dev/urandom
date -u -s "@$now" >/dev/null 2>&1 || echo "could not set the clock" >&2

# The kernel's hostname written directly (no program to start) where /proc has it.
if [ -w /proc/sys/kernel/hostname ]; then
  echo "$name" > /proc/sys/kernel/hostname || fail "could not set the hostname"
else
  hostname "$name" || fail "could not set the hostname"
fi
echo "$name" > /etc/hostname
if [ -f /etc/hosts ]; then
  grep -q '^127\.0\.1\.1[[:space:]]' /etc/hosts && sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1 $name/" /etc/hosts
fi

IFS=- read -r a b c d e < /proc/sys/kernel/random/uuid || fail "no /proc/sys/kernel/random/uuid"
id=$a$b$c$d$e
echo "$id" > /etc/machine-id
if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then echo "$id" > /var/lib/dbus/machine-id; fi

while [ $# -ge 3 ]; do
  old=$1; new=$2; cidr=$3; shift 3
  dev=
  for n in /sys/class/net/*; do
    read -r mac < "$n/address" 2>/dev/null && [ "$mac" = "$old" ] && dev=${n##*/}
  done
  [ -n "$dev" ] || fail "no NIC with the saved guest's MAC $old"
  { ip link set dev "$dev" down && ip link set dev "$dev" address "$new" up; } || fail "could not give $dev the MAC $new"
  ip addr flush dev "$dev"
  ip addr add "$cidr" dev "$dev" || fail "could not put $cidr on $dev"
done

# cloud-init takes the VM for the saved guest's instance (its seed carries that instance-id), and
# applies network config only to a new instance by default: at every boot, so that the VM's own
# seed (its private address) is what a reboot brings up, not what the saved guest had.
if [ -d /etc/cloud/cloud.cfg.d ]; then
  printf 'updates:\n  network:\n    when: [boot-new-instance, boot]\n' > /etc/cloud/cloud.cfg.d/99-pulumi-qemu-warm.cfg ||
    fail "could not write /etc/cloud/cloud.cfg.d/99-pulumi-qemu-warm.cfg"
fi

# New host keys, of the kinds the guest had. A server that had none loaded (dropbear -R makes
# them at the first connection) is left running; one that had is restarted on the new ones.
keys=0
for k in /etc/ssh/ssh_host_*_key; do
  [ -f "$k" ] || continue
  t=${k#/etc/ssh/ssh_host_}; t=${t%_key}
  { rm -f "$k" "$k.pub" && ssh-keygen -q -N '' -t "$t" -f "$k"; } || fail "could not make a new $t host key"
  keys=$((keys + 1))
done
for k in /etc/dropbear/dropbear_*_host_key; do
  [ -f "$k" ] || continue
  rm -f "$k"
  t=${k#/etc/dropbear/dropbear_}; t=${t%_host_key}
  if command -v dropbearkey >/dev/null 2>&1; then dropbearkey -t "$t" -f "$k" >/dev/null 2>&1 || fail "could not make a new $t host key"; fi
  keys=$((keys + 1))
done
if [ "$keys" -gt 0 ] && [ -d /run/systemd/system ]; then
  systemctl try-restart ssh.service sshd.service dropbear.service 2>/dev/null
elif [ "$keys" -gt 0 ]; then
  # The listening server (its parent is init): stopped, and started again with its own arguments.
  for p in /proc/[0-9]*; do
    read -r comm < "$p/comm" 2>/dev/null || continue
    case "$comm" in sshd|dropbear) ;; *) continue ;; esac
    ppid=
    while read -r field value _; do [ "$field" = PPid: ] && ppid=$value; done < "$p/status"
    [ "$ppid" = 1 ] || continue
    # shellcheck disable=SC2046 # its arguments, split where the NULs were (a server's have no spaces)
    set -- $(tr '\0' ' ' < "$p/cmdline")
    [ $# -gt 0 ] || continue
    kill "${p#/proc/}" 2>/dev/null
    # Gone, or a zombie (an init that reaps late): its socket is closed either way.
    i=0; while [ -d "$p" ] && ! grep -q '^State:[[:space:]]*Z' "$p/status" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    "$@" </dev/null >/dev/null 2>&1 || fail "could not start $comm again: $*"
  done
fi
echo "keys=$keys machine-id=$id"
