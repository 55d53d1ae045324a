/** The VM scripts a host runs, by its platform: POSIX sh (hostScripts.ts) or Windows PowerShell (windowsScripts.ts). */
import type { Transport } from "../transport";
import { cleanupArgv, listSpecsArgv, observeArgv, signalArgv, startArgv, type ObserveTarget } from "./hostScripts";
import type { VmLayout } from "../layout";
import { cleanupScriptArgv, listSpecsScriptArgv, observeScriptArgv, signalScriptArgv, startScriptArgv } from "./windowsScripts";

export interface VmScripts {
  start(layout: VmLayout, name: string, specJson: string, qemuArgv: string[], keepSeed?: string): string[];
  observe(targets: ObserveTarget[]): string[];
  signal(layout: VmLayout, name: string, signal: "TERM" | "KILL"): string[];
  cleanup(layout: VmLayout, name: string, what: "runtime" | "all"): string[];
  listSpecs(stateRoot: string): string[];
}

const POSIX: VmScripts = { start: startArgv, observe: observeArgv, signal: signalArgv, cleanup: cleanupArgv, listSpecs: listSpecsArgv };

const WINDOWS: VmScripts = {
  start: startScriptArgv, observe: observeScriptArgv, cleanup: cleanupScriptArgv, listSpecs: listSpecsScriptArgv,
  // Windows has no signals: both rungs end the process (Stop-Process), the last resort either way.
  signal: (layout, name) => signalScriptArgv(layout, name),
};

export function vmScripts(transport: Transport): VmScripts {
  return transport.platform === "windows" ? WINDOWS : POSIX;
}
