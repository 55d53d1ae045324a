/**
 * The sh scripts that act on a VM's state directory, each one round trip. Arguments come as
 * positional parameters ($1...), never spliced into the script text. A process counts as the
 * VM's only if its command line has `-name guest=NAME` and `-pidfile PIDFILE` (Proxmox's rule)
 * and it is not a zombie; nothing else is ever signalled.
 */
import type { VmLayout } from "./layout";

/** Shell functions shared by the scripts: identity check and the per-VM lock. */
const COMMON = String.raw`
vm_pid() { p=$(cat "$pidfile" 2>/dev/null) || return 1; case "$p" in ''|*[!0-9]*) return 1 ;; esac; echo "$p"; }
cmdline_of() {
  if [ -r "/proc/$1/cmdline" ]; then tr '\000' '\n' < "/proc/$1/cmdline"
  else ps -p "$1" -o command= 2>/dev/null | tr ' ' '\n'; fi
}
is_zombie() {
  if [ -r "/proc/$1/stat" ]; then s=$(sed 's/.*) //' "/proc/$1/stat" | cut -c1); else s=$(ps -p "$1" -o stat= 2>/dev/null | cut -c1); fi
  [ "$s" = Z ]
}
# True when PID is alive, not a zombie, and its command line names this VM and its pidfile.
is_ours() {
  [ -n "$1" ] || return 1
  kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ] || return 1
  is_zombie "$1" && return 1
  c=$(cmdline_of "$1")
  printf '%s\n' "$c" | grep -qxF "guest=$name" && printf '%s\n' "$c" | grep -qxF -- "$pidfile"
}
take_lock() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    flock -w 120 9 || { echo "waited 120 s for the VM's lock $lock" >&2; exit 75; }
  else
    i=0
    until mkdir "$lock.d" 2>/dev/null; do
      i=$((i + 1)); [ "$i" -gt 1200 ] && { echo "waited 120 s for the VM's lock $lock.d" >&2; exit 75; }
      sleep 0.1
    done
    trap 'rmdir "$lock.d"' EXIT
  fi
}
`;

function withArgs(script: string, layout: VmLayout, name: string, extra: string[] = []): string[] {
  const prologue = 'name=$1; dir=$2; pidfile=$3; sock=$4; spec=$5; startlog=$6; lock=$7; shift 7\n';
  return ["sh", "-c", prologue + COMMON + script, "pulumi-qemu-vm", name, layout.dir, layout.pidfile, layout.qmpSocket,
    layout.startedSpec, layout.startLog, layout.lock, ...extra];
}

/** Prints pid=, ours=0|1, socket=0|1 and spec=<one-line JSON of the started spec>. */
export function observeArgv(layout: VmLayout, name: string): string[] {
  return withArgs(String.raw`
pid=$(vm_pid) || pid=
echo "pid=$pid"
if is_ours "$pid"; then echo ours=1; else echo ours=0; fi
if [ -S "$sock" ]; then echo socket=1; else echo socket=0; fi
[ -f "$spec" ] && printf 'spec=%s\n' "$(tr -d '\n' < "$spec")"
exit 0
`, layout, name);
}

/**
 * Under the VM's lock: if our instance already runs, prints existing=1 and its spec and starts
 * nothing. Else removes a stale socket and pidfile, writes the spec, and runs QEMU (which
 * daemonizes); on failure prints QEMU's stderr and exits 71. On success removes the seed
 * images other than `keepSeed`. Extra args: spec JSON, the seed to keep, then argv.
 */
export function startArgv(layout: VmLayout, name: string, specJson: string, qemuArgv: string[], keepSeed = ""): string[] {
  return withArgs(String.raw`
desired=$1; keep=$2; shift 2
mkdir -p "$dir" || exit 70
take_lock
pid=$(vm_pid) || pid=
if is_ours "$pid"; then
  echo existing=1; echo "pid=$pid"
  [ -f "$spec" ] && printf 'spec=%s\n' "$(tr -d '\n' < "$spec")"
  exit 0
fi
rm -f -- "$sock" "$pidfile"
"$@" 9>&- </dev/null >/dev/null 2>"$startlog"
rc=$?
if [ "$rc" -ne 0 ]; then cat "$startlog" >&2; exit 71; fi
printf '%s\n' "$desired" > "$spec.tmp" && mv -f -- "$spec.tmp" "$spec"
# Seed images of earlier starts are no longer used by anyone.
for f in "$dir"/cidata-*.iso; do [ -f "$f" ] && [ "$f" != "$keep" ] && rm -f -- "$f"; done
echo existing=0; echo "pid=$(vm_pid)"
`, layout, name, [specJson, keepSeed, ...qemuArgv]);
}

/** Sends SIGNAL to our instance only; prints signalled=0|1. */
export function signalArgv(layout: VmLayout, name: string, signal: "TERM" | "KILL"): string[] {
  return withArgs(String.raw`
pid=$(vm_pid) || pid=
if is_ours "$pid"; then kill -$1 "$pid" && echo signalled=1 && exit 0; fi
echo signalled=0
`, layout, name, [signal]);
}

/** After the instance is gone: removes its socket and pidfile (and with "all", the whole state directory). */
export function cleanupArgv(layout: VmLayout, name: string, what: "runtime" | "all"): string[] {
  return withArgs(String.raw`
[ -d "$dir" ] || exit 0
take_lock
pid=$(vm_pid) || pid=
if is_ours "$pid"; then echo "the VM is still running (pid $pid); not removing its files" >&2; exit 72; fi
rm -f -- "$sock" "$pidfile"
if [ "$1" = all ]; then rm -rf -- "$dir"; fi
exit 0
`, layout, name, [what]);
}
