# Under the VM's lock: if our instance already runs, prints existing=1 and its observation and
# starts nothing. Else removes a stale socket and pidfile, runs QEMU (which daemonizes), and on
# failure prints QEMU's messages and exits EXIT_QEMU_FAILED. On success writes the spec, removes
# the seed images other than the one to keep, records the new instance's PID and start time,
# and prints existing=0 and its observation. Arguments: spec JSON, the seed to keep, QEMU's argv.
desired=$1; keep=$2; shift 2
[ -d "$dir" ] || mkdir -p "$dir" || exit "$EXIT_CANNOT_WRITE"
# Private, also when an older release made it open to others.
chmod 700 "$dir" || exit "$EXIT_CANNOT_WRITE"
take_lock
read_pid
if is_ours "$pid"; then
  echo existing=1; print_observation
  exit 0
fi
for f in "$sock" "$agentsock" "$pidfile" "$qemulog" "$identity"; do if [ -e "$f" ] || [ -L "$f" ]; then rm -f -- "$f"; fi; done
PATH="$PATH:$QEMU_PATH" "$@" 9>&- </dev/null >/dev/null 2>"$startlog"
rc=$?
# With -D, QEMU writes its errors to that log, not to stderr.
if [ "$rc" -ne 0 ]; then cat "$startlog" >&2; cat "$qemulog" >&2 2>/dev/null; exit "$EXIT_QEMU_FAILED"; fi
# A daemonized QEMU creates with umask 027 (its serial log, its QMP socket): private again.
chmod go-rwx -- "$dir"/* 2>/dev/null
printf '%s\n' "$desired" > "$spec.tmp" && mv -f -- "$spec.tmp" "$spec"
# Seed images of earlier starts are no longer used by anyone.
for f in "$dir"/cidata-*.iso; do [ -f "$f" ] && [ "$f" != "$keep" ] && rm -f -- "$f"; done
# QEMU enters its first run state just after it daemonizes: wait for that line (at most 2 s,
# here on the host) so that the observation that follows needs no QMP session.
# A QEMU waiting for an incoming migration (-incoming) has none until the state arrives.
i=0; for a in "$@"; do [ "$a" = -incoming ] && i=200; done
while [ "$i" -lt 200 ] && last_runstate && [ -z "$runstate" ]; do sleep 0.01 2>/dev/null || break; i=$((i + 1)); done
# The pidfile was just written by the QEMU this script ran (exit 0): record who it is.
read_pid
started=; [ -n "$pid" ] && proc_state "$pid"
if [ -n "$started" ]; then printf '%s %s\n' "$pid" "$started" > "$identity"; fi
echo existing=0; print_observation
