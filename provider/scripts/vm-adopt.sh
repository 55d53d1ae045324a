# Under the VM's lock: records a QEMU instance started by hand as this VM's (pidfile, PID and
# start time, the declared spec, its QMP socket linked in) unless one of ours already runs.
# Exits EXIT_NOT_THE_CHECKED_PROCESS when the PID is gone or is not the process that was checked
# (another start time: a reused PID). Prints the observation.
# Arguments: PID, its start time as checked, spec JSON, the instance's QMP socket.
handpid=$1; checked=$2; desired=$3; handsock=$4
[ -d "$dir" ] || mkdir -p "$dir" || exit "$EXIT_CANNOT_WRITE"
take_lock
read_pid
if is_ours "$pid"; then echo existing=1; print_observation; exit 0; fi
proc_state "$handpid"
[ -n "$started" ] && [ "$started" = "$checked" ] || exit "$EXIT_NOT_THE_CHECKED_PROCESS"
printf '%s\n' "$handpid" > "$pidfile.tmp" && mv -f -- "$pidfile.tmp" "$pidfile"
printf '%s %s\n' "$handpid" "$started" > "$identity"
printf '%s\n' "$desired" > "$spec.tmp" && mv -f -- "$spec.tmp" "$spec"
rm -f -- "$sock"
[ -n "$handsock" ] && ln -s -- "$handsock" "$sock"
echo existing=0; print_observation
