# A process's start time (as the VM scripts read it), then its NUL-separated argv from /proc
# when there is one; exit 1 when it is gone. $1: the PID.
proc_state "$1"; [ -n "$started" ] || exit 1
printf "%s\n" "$started"
cat "/proc/$1/cmdline" 2>/dev/null
exit 0
