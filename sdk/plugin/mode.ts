/**
 * Whether this process is the provider plugin. Set by the plugin before any resource module
 * loads: resourceBase.ts picks the resources' base class when it loads.
 */
const PLUGIN = Symbol.for("pulumi-qemu.plugin");

export function usePluginResources(): void {
  (globalThis as Record<symbol, unknown>)[PLUGIN] = true;
}

export function servedByPlugin(): boolean {
  return (globalThis as Record<symbol, unknown>)[PLUGIN] === true;
}
