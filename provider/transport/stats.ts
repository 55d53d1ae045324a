/**
 * Process-wide SSH counters, for tests and benchmarks. With PULUMI_QEMU_STATS_DIR set (the
 * benchmark sets it for the engine's provider process), they are written to <dir>/<pid>.json as
 * they change, since the engine ends that process without warning.
 */
import { writeFileSync } from "fs";
import { join } from "path";

export const sshStats = { connections: 0, channels: 0 };

export function countSsh(what: keyof typeof sshStats): void {
  sshStats[what]++;
  const dir = process.env.PULUMI_QEMU_STATS_DIR;
  if (dir) writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(sshStats));
}
