# Runs an accelerator probe's QEMU ($2...) with its stderr and temporary files under $1. A KVM internal
# error stops the guest but not QEMU (it stays alive, burning a core), so the runner watches
# QEMU's run-state trace and ends it as soon as the guest is stopped for good (one of
# STOPPED_STATES), and ends a probe that still runs after RUN_LIMIT_TICKS ticks of 50 ms.
# Exits with QEMU's status, or EXIT_PROBE_HUNG after HUNG_LINE when it ended a hang.
dir=$1; err="$dir/probe-$$.stderr"; shift
: > "$err" || exit "$EXIT_CANNOT_WRITE"
# TMPDIR: the probe disk's snapshot=on overlay goes beside it, not to /var/tmp (not writable on
# every host: a read-only system, a user without a /var/tmp of their own).
TMPDIR="$dir" PATH="$PATH:$QEMU_PATH" "$@" </dev/null 2>"$err" &
qemu=$!
ticks=0; ended=
while kill -0 "$qemu" 2>/dev/null; do
  while IFS= read -r line; do
    case "$line" in
      *runstate_set*) for s in $STOPPED_STATES; do case "$line" in *"($s)"*) ended=stopped ;; esac; done ;;
    esac
  done < "$err"
  [ -z "$ended" ] && [ "$ticks" -ge "$RUN_LIMIT_TICKS" ] && ended=hung
  if [ -n "$ended" ]; then kill -KILL "$qemu" 2>/dev/null; break; fi
  ticks=$((ticks + 1))
  sleep 0.05
done
wait "$qemu" 2>/dev/null; rc=$?
cat "$err" >&2; rm -f -- "$err"
if [ "$ended" = hung ]; then echo "$HUNG_LINE" >&2; exit "$EXIT_PROBE_HUNG"; fi
exit "$rc"
