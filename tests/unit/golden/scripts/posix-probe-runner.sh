
err="$1/probe-$$.stderr"; shift
: > "$err" || exit 70
PATH="$PATH:/usr/local/bin:/opt/homebrew/bin:/opt/local/bin" "$@" </dev/null 2>"$err" &
qemu=$!
ticks=0; ended=
while kill -0 "$qemu" 2>/dev/null; do
  while IFS= read -r line; do
    case "$line" in *runstate_set*"(internal-error)"*|*runstate_set*"(guest-panicked)"*) ended=stopped ;; esac
  done < "$err"
  [ -z "$ended" ] && [ "$ticks" -ge 200 ] && ended=hung
  if [ -n "$ended" ]; then kill -KILL "$qemu" 2>/dev/null; break; fi
  ticks=$((ticks + 1))
  sleep 0.05
done
wait "$qemu" 2>/dev/null; rc=$?
cat "$err" >&2; rm -f -- "$err"
if [ "$ended" = hung ]; then echo "pulumi-qemu: the probe guest did not finish within 10 s" >&2; exit 124; fi
exit "$rc"

# $0 and arguments: ["pulumi-qemu-probe","/Users/ops/.pulumi-qemu/.pulumi-qemu-probe","qemu-system-x86_64","-accel","hvf","-serial","stdio"]
