/**
 * The Windows twins of posixVmScripts.ts (provider/scripts/vm-*.ps1): same duties, same key=value
 * output (so observe.ts judges both). Values travel as PowerShell variables set before the
 * script (an encoded command takes no arguments).
 */
import { psFileArgv, winJoin, winQuoteArg } from "../transport/windows";
import type { PsValue } from "../transport/hostScript";
import type { ObserveTarget } from "./posixVmScripts";
import type { VmLayout } from "../layout";

/** In a Windows argv, the QMP port the start script picks (a free loopback port) replaces this. */
export const WINDOWS_QMP_PORT = "@QMP_PORT@";
/**
 * ... and this, the loopback address it listens on: one the start script picks in 127.0.0.0/8,
 * never 127.0.0.1, which QEMU's user-mode network gives the guest as 10.0.2.2.
 */
export const WINDOWS_QMP_ADDRESS = "@QMP_ADDRESS@";

/** The file beside the pidfile that holds the loopback port QEMU's QMP listens on. */
export function qmpPortFile(layout: VmLayout): string {
  return `${layout.dir}/qmp.port`;
}

/** The `$vm` hashtable the library's functions read. */
function vmValue({ layout, name }: ObserveTarget): Record<string, PsValue> {
  return {
    name, dir: layout.dir, pidfile: layout.pidfile, pidfileArg: winQuoteArg(layout.pidfile), qmpport: qmpPortFile(layout),
    spec: layout.startedSpec, qemulog: layout.qemuLog, identity: layout.identity, lock: layout.lock,
  };
}

const vmScript = (file: string, values: Record<string, PsValue>) => psFileArgv(["vm-lib.ps1", file], values);

/** For each VM in turn: `vm=<index>`, then its observation. */
export function observeScriptArgv(targets: ObserveTarget[]): string[] {
  return vmScript("vm-observe.ps1", { vms: targets.map(vmValue) });
}

/** Starts the VM detached under its lock unless ours runs (vm-start.ps1); prints existing=0|1 and the observation. */
export function startScriptArgv(layout: VmLayout, name: string, specJson: string, qemuArgv: string[], keepSeed = ""): string[] {
  return vmScript("vm-start.ps1", {
    vm: vmValue({ layout, name }), desired: specJson, keep: keepSeed, program: qemuArgv[0], arguments: winJoin(qemuArgv.slice(1)),
    qmpAddressPlaceholder: WINDOWS_QMP_ADDRESS, qmpPortPlaceholder: WINDOWS_QMP_PORT,
  });
}

/** Ends our instance only (Windows has no SIGTERM: both rungs terminate it); prints signalled=0|1. */
export function signalScriptArgv(layout: VmLayout, name: string): string[] {
  return vmScript("vm-signal.ps1", { vm: vmValue({ layout, name }) });
}

/** After the instance is gone: removes its QMP port file, pidfile and identity (with "all", the whole state directory). */
export function cleanupScriptArgv(layout: VmLayout, name: string, what: "runtime" | "all"): string[] {
  return vmScript("vm-cleanup.ps1", { vm: vmValue({ layout, name }), what });
}

/** The started spec of every VM under a state root, as "dir<TAB>json" lines (observe.listStartedSpecs). */
export function listSpecsScriptArgv(stateRoot: string): string[] {
  return psFileArgv(["vm-list-specs.ps1"], { root: stateRoot });
}
