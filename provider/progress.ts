/**
 * Progress of long waits (boot, readiness, the stop ladder, uploads). Inside the Pulumi engine's
 * provider process, stdout is shown live beside the running resource and kept in the
 * diagnostics; elsewhere (tests, the CLI) it stays quiet. Messages name VMs, hosts and sizes,
 * never a credential.
 */
let enabled = false;
let watching = false;

/** Turned on by the provider's configure call, which only the engine makes. */
export function enableProgress(on = true): void {
  enabled = on;
  if (on && !watching) {
    watching = true;
    process.stdout.on("error", engineGone);
    process.stderr.on("error", engineGone);
  }
}

/**
 * The engine reads this process's stdout and stderr: a write that fails with EPIPE means it is
 * gone (a killed `pulumi up`). Nothing can be reported any more, so the process ends, instead of
 * spinning on its own error messages (each one another EPIPE: seen here at 100% CPU and 3 GiB).
 * What it had started stays to its owner's next up, or to `pulumi-qemu gc` once its lease passes.
 */
export function engineGone(e: NodeJS.ErrnoException): void {
  if (e.code !== "EPIPE") return;
  enabled = false;
  process.exit(70);
}

/** Bytes as MiB with one decimal, for progress lines. */
export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

let sink: (line: string) => void = (line) => console.log(line);

/** Where progress lines go instead of stdout (the provider plugin: the engine's log). */
export function setProgressSink(to: (line: string) => void): void {
  sink = to;
}

export function progress(message: string): void {
  if (enabled) sink(`pulumi-qemu: ${message}`);
}
