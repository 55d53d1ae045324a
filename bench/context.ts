/** What every benchmark section gets: the test hosts, a run id, sizes and repeat counts. */
import { randomBytes } from "crypto";
import type { Connection } from "../provider/transport";
import { sshTransport } from "../provider/transport";
import { sshOptionsFor, testbed, type TestHost } from "../tests/testbed/testbed";
import { haltBootSector } from "../tests/helpers/haltingGuest";

export interface BenchSizes {
  /** Repeats of each timed figure (the median is reported). */
  repeats: number;
  /** VM counts for the refresh and CLI sections (the CLI's smallest and largest also give the cost of each VM beyond the first). */
  refreshSizes: number[];
  cliSizes: number[];
  /** Repeats of the CLI section (each a whole up, preview, preview --refresh and destroy of every size, ours then the peer's). */
  cliRepeats: number;
  /** Members of the fleet bring-up. */
  fleetSize: number;
}

export const FULL: BenchSizes = { repeats: 7, refreshSizes: [1, 10, 50], cliSizes: [3, 30, 100], cliRepeats: 3, fleetSize: 12 };
export const SMOKE: BenchSizes = { repeats: 1, refreshSizes: [1, 6], cliSizes: [1, 2], cliRepeats: 1, fleetSize: 3 };

export interface BenchContext {
  sizes: BenchSizes;
  hosts: TestHost[];
  run: string;
  log(message: string): void;
}

export function benchContext(sizes: BenchSizes, log: (m: string) => void): BenchContext {
  return { sizes, hosts: testbed().hosts, run: randomBytes(3).toString("hex"), log };
}

/** The bench's own working directory on a host: everything it makes lives there. */
export const benchDir = (ctx: BenchContext, h: TestHost): string => `${h.workDir}/bench-${ctx.run}`;

export const connectionTo = (ctx: BenchContext, h: TestHost): Connection & { workDir: string } =>
  ({ kind: "ssh", ...sshOptionsFor(h), workDir: benchDir(ctx, h) });

/** Puts the halting boot sector on every host; returns its path on each (the same layout everywhere). */
export async function placeHaltImage(ctx: BenchContext): Promise<(h: TestHost) => string> {
  await Promise.all(ctx.hosts.map(async (h) => {
    const t = sshTransport(sshOptionsFor(h));
    await t.exec(["mkdir", "-p", benchDir(ctx, h)]);
    await t.writeFile(`${benchDir(ctx, h)}/halt.img`, haltBootSector());
  }));
  return (h) => `${benchDir(ctx, h)}/halt.img`;
}

/** Kills what a failed section left running (only QEMU of this run's directory) and removes the directories. */
export async function cleanHosts(ctx: BenchContext): Promise<void> {
  await Promise.all(ctx.hosts.map((h) => sshTransport(sshOptionsFor(h)).exec(["sh", "-c",
    'pkill -KILL -f -- "^qemu-system-.*$1/vms/"; rm -rf -- "$1"', "clean", benchDir(ctx, h)])));
}
