/**
 * Process-wide counters, for tests and benchmarks: SSH connections and channels opened, and how
 * long after its own start the provider process got its first call from the engine (its start
 * cost: Node.js, @pulumi/pulumi's dynamic-provider host, this package). With
 * PULUMI_QEMU_STATS_DIR set (the benchmark sets it for the engine's provider process), they are
 * written to <dir>/<pid>.json as they change, since the engine ends that process without warning.
 */
import { writeFileSync } from "fs";
import { join } from "path";

export const sshStats = { connections: 0, channels: 0 };
let firstCallAfterStartMs: number | undefined;

function write(): void {
  const dir = process.env.PULUMI_QEMU_STATS_DIR;
  if (dir) writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ ...sshStats, firstCallAfterStartMs }));
}

export function countSsh(what: keyof typeof sshStats): void {
  sshStats[what]++;
  write();
}

/** The engine's first call (configure): how long after this process started it came. */
export function recordFirstCall(): void {
  if (firstCallAfterStartMs !== undefined) return;
  firstCallAfterStartMs = Math.round(process.uptime() * 1000);
  write();
}
