# shellcheck disable=SC2317,SC2154,SC2034
# Functions of the VM scripts: a process's identity and the per-VM lock. A process counts as
# the VM's only if it is not a zombie and either its command line has `-name guest=NAME` and
# `-pidfile PIDFILE` (Proxmox's rule) or its PID and start time are those recorded when the
# instance was started or adopted; nothing else is ever signalled.
# For shellcheck: a library (each script calls some of its functions, SC2317) that reads the
# state-directory variables vm-args.sh or the caller's loop sets (SC2154, SC2034).
nl='
'
# Sets pid to the number in the pidfile, or to nothing. Builtins only: a fork costs ~4 ms here.
read_pid() { pid=; [ -r "$pidfile" ] && read -r pid < "$pidfile"; case "$pid" in ''|*[!0-9]*) pid= ;; esac; }
# Sets state (R, S, Z, ...) and started (the start time: clock ticks after boot from field 22
# of /proc/PID/stat, read once; without /proc, as ps's lstart column in the C locale) of a process.
proc_state() {
  started=
  # The process may end between the test and the read: then it is seen as gone (ps finds nothing).
  if [ -r "/proc/$1/stat" ] && read -r st 2>/dev/null < "/proc/$1/stat"; then
    # The fields after the command name, split on purpose.
    # shellcheck disable=SC2086
    set -- ${st##*") "}
    state=$1
    [ "$#" -ge 20 ] && shift 19 && started=$1
  else
    st=$(LC_ALL=C ps -p "$1" -o stat= -o lstart= 2>/dev/null)
    # shellcheck disable=SC2086
    set -- $st
    state=$1
    [ "$#" -gt 1 ] && shift && started="$*"
  fi
}
# True when the process's arguments include guest=NAME and the pidfile: word for word from
# /proc, else from ps's command column (arguments joined by spaces: matched with spaces around).
names_this_vm() {
  if [ -r "/proc/$1/cmdline" ]; then
    cmd=$(tr '\000' '\n' < "/proc/$1/cmdline")
    case "$nl$cmd$nl" in *"${nl}guest=${name}${nl}"*) ;; *) return 1 ;; esac
    case "$nl$cmd$nl" in *"$nl$pidfile$nl"*) return 0 ;; esac
    return 1
  fi
  cmd=" $(ps -ww -p "$1" -o command= 2>/dev/null) "
  case "$cmd" in *" guest=$name "*) ;; *) return 1 ;; esac
  case "$cmd" in *" -pidfile $pidfile "*) return 0 ;; esac
  return 1
}
# True when PID is alive, not a zombie, and either is the PID with the start time recorded when
# this VM's instance was started or adopted (a reused PID has another start time; no command
# line read, which costs a few ms per QEMU process here), or its command line names this VM
# and its pidfile.
is_ours() {
  [ -n "$1" ] || return 1
  kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ] || return 1
  proc_state "$1"
  case "$state" in Z*) return 1 ;; esac
  if [ -n "$started" ] && [ -f "$identity" ]; then
    IFS= read -r known < "$identity"
    [ "$known" = "$1 $started" ] && return 0
  fi
  names_this_vm "$1"
}
print_spec() { [ -f "$spec" ] || return 0; IFS= read -r sp < "$spec"; printf 'spec=%s\n' "$sp"; }
# The owner record beside the started spec (provider/vm/owner.ts), one line of JSON.
print_owner() { [ -f "${spec%/*}/owner" ] || return 0; IFS= read -r ow < "${spec%/*}/owner"; printf 'owner=%s\n' "$ow"; }
# Sets runstate to the last run-state line of QEMU's log (empty when there is none yet), and
# resets to how often the boot CPU (the first one the log names) was reset; false without a log.
last_runstate() {
  runstate=; resets=0; bootcpu=; [ -f "$qemulog" ] || return 1
  while IFS= read -r line; do
    case "$line" in
      *runstate_set*) runstate=$line ;;
      guest_cpu_reset*) [ -n "$bootcpu" ] || bootcpu=$line; [ "$line" = "$bootcpu" ] && resets=$((resets + 1)) ;;
    esac
  done < "$qemulog"
}
# One VM as the key=value lines observe.ts reads: pid=, ours=0|1, socket=0|1, runstate= and bootcpu_resets= (with a log), spec=, owner=.
print_observation() {
  read_pid
  echo "pid=$pid"
  if is_ours "$pid"; then echo ours=1; else echo ours=0; fi
  if [ -S "$sock" ]; then echo socket=1; else echo socket=0; fi
  last_runstate && printf 'runstate=%s\nbootcpu_resets=%s\n' "$runstate" "$resets"
  print_spec
  print_owner
}
# Takes "$lock", waiting up to $lock_wait seconds (default 120; a download's waiters wait longer).
take_lock() {
  wait_s=${lock_wait:-120}
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    flock -w "$wait_s" 9 || { echo "waited $wait_s s for the lock $lock" >&2; exit "$EXIT_LOCK_TIMEOUT"; }
  else
    # No flock (macOS): a directory, with its holder's PID inside so that a killed holder's lock
    # is broken. Breakers take "$lock.b" first: while the dead holder's directory stands nobody
    # else can take the lock, so the PID read under "$lock.b" is the one removed.
    i=0
    until mkdir "$lock.d" 2>/dev/null; do
      if mkdir "$lock.b" 2>/dev/null; then
        holder=; [ -r "$lock.d/pid" ] && read -r holder < "$lock.d/pid"
        case "$holder" in
          ''|*[!0-9]*) ;;
          *) kill -0 "$holder" 2>/dev/null || [ -d "/proc/$holder" ] || ps -p "$holder" >/dev/null 2>&1 || rm -rf "$lock.d" ;;
        esac
        rmdir "$lock.b"
      fi
      i=$((i + 1)); [ "$i" -gt $((wait_s * 10)) ] && { echo "waited $wait_s s for the lock $lock.d (held by a live process, or left by one killed before it wrote its PID: remove it when no pulumi-qemu operation runs)" >&2; exit "$EXIT_LOCK_TIMEOUT"; }
      sleep 0.1
    done
    echo "$$" > "$lock.d/pid"
    trap 'rm -rf "$lock.d"' EXIT
  fi
}
