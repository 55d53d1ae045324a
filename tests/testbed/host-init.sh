#!/bin/sh
# The first process of a test host (hosts.sh; not with PQEMU_TESTBED_SHARED=1): PID 1 of the
# host's own PID namespace, in its own mount namespace, inside its network namespace. It gives the
# host its own /tmp, /proc and the directories of the Pulumi side hidden, so that a file or a
# process on the host is reached only through the host's sshd, as on a real remote host; only
# the system (/usr, QEMU, /etc) is shared, read-only. Then it becomes the host's sshd.
#   $1  the host's directory on the machine (sshd config, keys, log; root/ is the host's own tree)
#   $2  the host's index: its PIDs start at (index + 1) * 1000000
set -eu
dir=$1 index=$2
# Found before /tmp becomes the host's own (a clone under /tmp is then out of sight already).
repo=$(cd "$(dirname "$0")/../.." && pwd)
# No PID of a host is another host's or the machine's: tests that look from outside tell them apart.
echo $(((index + 1) * 1000000)) > /proc/sys/kernel/ns_last_pid
# The host's admin files stay reachable once /tmp is the host's own.
mount --bind "$dir" /run/pqemu-host
mount --bind "$dir/root/tmp" /tmp
# Its own users: copies of the machine's user database as it was when the host came up (with the
# test users), so that a user added or changed on one host is not on another or on the machine.
for f in passwd group shadow; do
  cp -p "/etc/$f" "$dir/etc-$f"
  mount --bind "$dir/etc-$f" "/etc/$f"
done
# The Pulumi side's files: the repository (wherever a CI clones it), ../shared beside it, caches,
# home directories, and every top-level directory that is not the system's. /tmp is the host's own.
hide() { case "$1" in /tmp|/tmp/*) return 0 ;; esac; [ -d "$1" ] && [ ! -L "$1" ] && mount -t tmpfs -o mode=755 pqemu-hidden "$1"; return 0; }
for top in /*; do
  case "$top" in /bin|/boot|/dev|/etc|/lib|/lib32|/lib64|/libx32|/sbin|/usr|/var|/proc|/sys|/run|/tmp) ;; *) hide "$top" ;; esac
done
hide "$repo"
hide "$(dirname "$repo")/shared"
# Everything else is the machine's system, shared read-only: a host writes only to what is its own
# (its /tmp, its user database, /dev, and the admin directory its sshd logs to).
mount -o remount,bind,ro /
exec /usr/sbin/sshd -D -f /run/pqemu-host/sshd_config -E /run/pqemu-host/sshd.log
