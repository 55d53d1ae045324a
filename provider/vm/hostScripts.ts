/**
 * The sh scripts that act on a VM's state directory, each one round trip. Arguments come as
 * positional parameters ($1...), never spliced into the script text. A process counts as the
 * VM's only if it is not a zombie and either its command line has `-name guest=NAME` and
 * `-pidfile PIDFILE` (Proxmox's rule) or its PID and start time are those recorded when the
 * instance was started or adopted; nothing else is ever signalled.
 */
import { POSIX_QEMU_PATH } from "../transport/hostFiles";
import type { VmLayout } from "../layout";

/**
 * Shell functions shared by the scripts: identity check and the per-VM lock. For shellcheck:
 * a library (each script calls some of its functions, SC2317) that reads the state-directory
 * variables the script's prologue sets (SC2154, SC2034: the prologue names them all).
 */
export const POSIX_VM_FUNCTIONS = String.raw`# shellcheck disable=SC2317,SC2154,SC2034
nl='
'
# Sets pid to the number in the pidfile, or to nothing. Builtins only: a fork costs ~4 ms here.
read_pid() { pid=; [ -r "$pidfile" ] && read -r pid < "$pidfile"; case "$pid" in ''|*[!0-9]*) pid= ;; esac; }
# Sets state (R, S, Z, ...) and started (the start time: clock ticks after boot from field 22
# of /proc/PID/stat, read once; without /proc, as ps's lstart column in the C locale) of a process.
proc_state() {
  started=
  if [ -r "/proc/$1/stat" ]; then
    read -r st < "/proc/$1/stat"
    # The fields after the command name, split on purpose.
    # shellcheck disable=SC2086
    set -- ${"$"}{st##*") "}
    state=$1
    shift 19 && started=$1
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
    case "$nl$cmd$nl" in *"${"$"}{nl}guest=${"$"}{name}${"$"}{nl}"*) ;; *) return 1 ;; esac
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
# One VM as the key=value lines observe.ts reads: pid=, ours=0|1, socket=0|1, runstate= and bootcpu_resets= (with a log), spec=.
print_observation() {
  read_pid
  echo "pid=$pid"
  if is_ours "$pid"; then echo ours=1; else echo ours=0; fi
  if [ -S "$sock" ]; then echo socket=1; else echo socket=0; fi
  last_runstate && printf 'runstate=%s\nbootcpu_resets=%s\n' "$runstate" "$resets"
  print_spec
}
take_lock() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    flock -w 120 9 || { echo "waited 120 s for the VM's lock $lock" >&2; exit 75; }
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
      i=$((i + 1)); [ "$i" -gt 1200 ] && { echo "waited 120 s for the VM's lock $lock.d (held by a live process, or left by one killed before it wrote its PID: remove it when no pulumi-qemu operation runs)" >&2; exit 75; }
      sleep 0.1
    done
    echo "$$" > "$lock.d/pid"
    trap 'rm -rf "$lock.d"' EXIT
  fi
}
`;

function withArgs(script: string, layout: VmLayout, name: string, extra: string[] = []): string[] {
  // The library's shellcheck directive must come first to hold for the whole script.
  const prologue = '# shellcheck disable=SC2317,SC2154,SC2034\nname=$1; dir=$2; pidfile=$3; sock=$4; spec=$5; startlog=$6; lock=$7; qemulog=$8; identity=$9; shift 9\n';
  return ["sh", "-c", prologue + POSIX_VM_FUNCTIONS + script, "pulumi-qemu-vm", name, layout.dir, layout.pidfile, layout.qmpSocket,
    layout.startedSpec, layout.startLog, layout.lock, layout.qemuLog, layout.identity, ...extra];
}

export interface ObserveTarget { layout: VmLayout; name: string }

/** For each VM in turn: `vm=<index>`, then its observation. One round trip for any number of VMs of one host. */
export function observeArgv(targets: ObserveTarget[]): string[] {
  const script = POSIX_VM_FUNCTIONS + String.raw`
i=0
while [ "$#" -ge 6 ]; do
  name=$1; pidfile=$2; sock=$3; spec=$4; qemulog=$5; identity=$6; shift 6
  echo "vm=$i"; i=$((i + 1))
  print_observation
done
exit 0
`;
  const args = targets.flatMap(({ layout, name }) => [name, layout.pidfile, layout.qmpSocket, layout.startedSpec, layout.qemuLog, layout.identity]);
  return ["sh", "-c", script, "pulumi-qemu-observe", ...args];
}

/**
 * Under the VM's lock: if our instance already runs, prints existing=1 and its observation and
 * starts nothing. Else removes a stale socket and pidfile, writes the spec, and runs QEMU (which
 * daemonizes); on failure prints QEMU's stderr and exits 71. On success removes the seed
 * images other than `keepSeed`, records the new instance's PID and start time, and prints
 * existing=0 and its observation. Extra args: spec JSON, the seed to keep, then argv.
 */
export function startArgv(layout: VmLayout, name: string, specJson: string, qemuArgv: string[], keepSeed = ""): string[] {
  return withArgs(String.raw`
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
PATH="$PATH:${POSIX_QEMU_PATH}" "$@" 9>&- </dev/null >/dev/null 2>"$startlog"
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
`, layout, name, [specJson, keepSeed, ...qemuArgv]);
}

/**
 * Under the VM's lock: records a QEMU instance started by hand as this VM's (pidfile, PID and
 * start time, the declared spec, its QMP socket linked in) unless one of ours already runs.
 * Exit 73 when the PID is gone or is not the process that was checked (another start time: a
 * reused PID). Prints the observation. Extra args: PID, its start time, spec JSON, QMP socket.
 */
export function adoptArgv(layout: VmLayout, name: string, pid: number, startedAt: string, specJson: string, qmpSocket: string): string[] {
  return withArgs(String.raw`
handpid=$1; checked=$2; desired=$3; handsock=$4
[ -d "$dir" ] || mkdir -p "$dir" || exit 70
take_lock
read_pid
if is_ours "$pid"; then echo existing=1; print_observation; exit 0; fi
proc_state "$handpid"
[ -n "$started" ] && [ "$started" = "$checked" ] || exit 73
printf '%s\n' "$handpid" > "$pidfile.tmp" && mv -f -- "$pidfile.tmp" "$pidfile"
printf '%s %s\n' "$handpid" "$started" > "$identity"
printf '%s\n' "$desired" > "$spec.tmp" && mv -f -- "$spec.tmp" "$spec"
rm -f -- "$sock"
[ -n "$handsock" ] && ln -s -- "$handsock" "$sock"
echo existing=0; print_observation
`, layout, name, [String(pid), startedAt, specJson, qmpSocket]);
}

/** Sends SIGNAL to our instance only; prints signalled=0|1. */
export function signalArgv(layout: VmLayout, name: string, signal: "TERM" | "KILL"): string[] {
  return withArgs(String.raw`
read_pid
if is_ours "$pid"; then kill -"$1" "$pid" && echo signalled=1 && exit 0; fi
echo signalled=0
`, layout, name, [signal]);
}

/** After the instance is gone: removes its socket and pidfile, keeping QEMU's log for a post-mortem (and with "all", the whole state directory). */
export function cleanupArgv(layout: VmLayout, name: string, what: "runtime" | "all"): string[] {
  return withArgs(String.raw`
[ -d "$dir" ] || exit 0
take_lock
read_pid
if is_ours "$pid"; then echo "the VM is still running (pid $pid); not removing its files" >&2; exit 72; fi
rm -f -- "$sock" "$pidfile" "$identity"
if [ "$1" = all ]; then rm -rf -- "$dir"; fi
exit 0
`, layout, name, [what]);
}

/** The started spec of every VM under a state root, as "dir<TAB>json" lines (observe.listStartedSpecs). */
export function listSpecsArgv(stateRoot: string): string[] {
  return ["sh", "-c", 'for f in "$1"/*/spec.json; do [ -f "$f" ] && printf "%s\\t%s\\n" "${f%/spec.json}" "$(tr -d "\\n" < "$f")"; done; exit 0', "specs", stateRoot];
}
