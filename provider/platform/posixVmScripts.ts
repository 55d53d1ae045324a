/**
 * The sh scripts that act on a VM's state directory (provider/scripts/vm-*.sh), each one round
 * trip. Arguments come as positional parameters ($1...), never spliced into the script text.
 */
import { shScriptArgv } from "../transport/hostScript";
import type { VmLayout } from "../layout";

/** A script of the VM library run for one VM: its state-directory files first (vm-args.sh), then `extra`. */
function vmScriptArgv(file: string, layout: VmLayout, name: string, extra: string[] = []): string[] {
  return shScriptArgv(["vm-args.sh", "vm-lib.sh", file], [name, layout.dir, layout.pidfile, layout.qmpSocket,
    layout.startedSpec, layout.startLog, layout.lock, layout.qemuLog, layout.identity, layout.qgaSocket, ...extra]);
}

export interface ObserveTarget { layout: VmLayout; name: string }

/** For each VM in turn: `vm=<index>`, then its observation. One round trip for any number of VMs of one host. */
export function observeArgv(targets: ObserveTarget[]): string[] {
  const args = targets.flatMap(({ layout, name }) => [name, layout.pidfile, layout.qmpSocket, layout.startedSpec, layout.qemuLog, layout.identity]);
  return shScriptArgv(["vm-lib.sh", "vm-observe.sh"], args);
}

/** Starts the VM under its lock unless ours runs (vm-start.sh); prints existing=0|1 and the observation. */
export function startArgv(layout: VmLayout, name: string, specJson: string, qemuArgv: string[], keepSeed = ""): string[] {
  return vmScriptArgv("vm-start.sh", layout, name, [specJson, keepSeed, ...qemuArgv]);
}

/** Records a QEMU instance started by hand as this VM's (vm-adopt.sh). */
export function adoptArgv(layout: VmLayout, name: string, pid: number, startedAt: string, specJson: string, qmpSocket: string): string[] {
  return vmScriptArgv("vm-adopt.sh", layout, name, [String(pid), startedAt, specJson, qmpSocket]);
}

/** Sends SIGNAL to our instance only; prints signalled=0|1. */
export function signalArgv(layout: VmLayout, name: string, signal: "TERM" | "KILL"): string[] {
  return vmScriptArgv("vm-signal.sh", layout, name, [signal]);
}

/** After the instance is gone: removes its socket and pidfile, keeping QEMU's log for a post-mortem (and with "all", the whole state directory). */
export function cleanupArgv(layout: VmLayout, name: string, what: "runtime" | "all"): string[] {
  return vmScriptArgv("vm-cleanup.sh", layout, name, [what]);
}

/** A process's start time, then its NUL-separated argv from /proc when there is one; exit 1 when it is gone. */
export function processArgv(pid: string): string[] {
  return shScriptArgv(["vm-lib.sh", "vm-process.sh"], [pid]);
}

/** The started spec of every VM under a state root, as "dir<TAB>json" lines (observe.listStartedSpecs). */
export function listSpecsArgv(stateRoot: string): string[] {
  return ["sh", "-c", 'for f in "$1"/*/spec.json; do [ -f "$f" ] && printf "%s\\t%s\\n" "${f%/spec.json}" "$(tr -d "\\n" < "$f")"; done; exit 0', "specs", stateRoot];
}

/** The names of the state directories under a state root, one per line (for `pulumi-qemu gc`). */
export function listStateDirsArgv(stateRoot: string): string[] {
  return ["sh", "-c", 'for d in "$1"/*/; do [ -d "$d" ] || continue; d=${d%/}; printf "%s\\n" "${d##*/}"; done; exit 0', "state-dirs", stateRoot];
}
