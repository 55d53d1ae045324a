# After the instance is gone: removes its socket, pidfile and identity, keeping QEMU's log for a
# post-mortem; with $1 = all, the whole state directory. Exits EXIT_STILL_RUNNING if it runs.
[ -d "$dir" ] || exit 0
take_lock
read_pid
if is_ours "$pid"; then echo "the VM is still running (pid $pid); not removing its files" >&2; exit "$EXIT_STILL_RUNNING"; fi
rm -f -- "$sock" "$agentsock" "$pidfile" "$identity"
if [ "$1" = all ]; then rm -rf -- "$dir"; fi
exit 0
