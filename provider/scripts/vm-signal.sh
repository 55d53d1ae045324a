# Sends the signal ($1: TERM or KILL) to our instance only; prints signalled=0|1.
read_pid
if is_ours "$pid"; then kill -"$1" "$pid" && echo signalled=1 && exit 0; fi
echo signalled=0
