# shellcheck disable=SC2317,SC2154,SC2034
name=$1; dir=$2; pidfile=$3; sock=$4; spec=$5; startlog=$6; lock=$7; qemulog=$8; identity=$9; shift 9
# <posix-vm-functions>

desired=$1; keep=$2; shift 2
[ -d "$dir" ] || mkdir -p "$dir" || exit 70
# Private, also when an older release made it open to others.
chmod 700 "$dir" || exit 70
take_lock
read_pid
if is_ours "$pid"; then
  echo existing=1; print_observation
  exit 0
fi
for f in "$sock" "$pidfile" "$qemulog" "$identity"; do if [ -e "$f" ] || [ -L "$f" ]; then rm -f -- "$f"; fi; done
PATH="$PATH:/usr/local/bin:/opt/homebrew/bin:/opt/local/bin" "$@" 9>&- </dev/null >/dev/null 2>"$startlog"
rc=$?
# With -D, QEMU writes its errors to that log, not to stderr.
if [ "$rc" -ne 0 ]; then cat "$startlog" >&2; cat "$qemulog" >&2 2>/dev/null; exit 71; fi
# A daemonized QEMU creates with umask 027 (its serial log, its QMP socket): private again.
chmod go-rwx -- "$dir"/* 2>/dev/null
printf '%s\n' "$desired" > "$spec.tmp" && mv -f -- "$spec.tmp" "$spec"
# Seed images of earlier starts are no longer used by anyone.
for f in "$dir"/cidata-*.iso; do [ -f "$f" ] && [ "$f" != "$keep" ] && rm -f -- "$f"; done
# QEMU enters its first run state just after it daemonizes: wait for that line (at most 2 s,
# here on the host) so that the observation that follows needs no QMP session.
i=0
while [ "$i" -lt 200 ] && last_runstate && [ -z "$runstate" ]; do sleep 0.01 2>/dev/null || break; i=$((i + 1)); done
# The pidfile was just written by the QEMU this script ran (exit 0): record who it is.
read_pid
started=; [ -n "$pid" ] && proc_state "$pid"
if [ -n "$started" ]; then printf '%s %s\n' "$pid" "$started" > "$identity"; fi
echo existing=0; print_observation

# $0 and arguments: ["pulumi-qemu-vm","web","/Users/ops/.pulumi-qemu/vms/web","/Users/ops/.pulumi-qemu/vms/web/qemu.pid","/Users/ops/.pulumi-qemu/vms/web/qmp.sock","/Users/ops/.pulumi-qemu/vms/web/spec.json","/Users/ops/.pulumi-qemu/vms/web/start.log","/Users/ops/.pulumi-qemu/vms/web/lock","/Users/ops/.pulumi-qemu/vms/web/qemu.log","/Users/ops/.pulumi-qemu/vms/web/qemu.identity","{\"name\":\"web\"}","/Users/ops/.pulumi-qemu/vms/web/cidata-0123456789abcdef.iso","qemu-system-x86_64","-name","guest=web","-daemonize"]
