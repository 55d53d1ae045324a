/**
 * Progress of long waits (boot, readiness, the stop ladder, uploads). Inside the Pulumi engine's
 * provider process, stdout is shown live beside the running resource and kept in the
 * diagnostics; elsewhere (tests, the CLI) it stays quiet. Messages name VMs, hosts and sizes,
 * never a credential.
 */
let enabled = false;

/** Turned on by the provider's configure call, which only the engine makes. */
export function enableProgress(on = true): void {
  enabled = on;
}

export function progress(message: string): void {
  if (enabled) console.log(`pulumi-qemu: ${message}`);
}
