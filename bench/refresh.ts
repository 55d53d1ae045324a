/**
 * 2. Refresh at scale, in process: reading 1, 10 and 50 running minimal VMs spread over the hosts,
 * each time from a fresh connection pool (as a new provider process starts), all reads at once
 * (as the engine sends them). Counts SSH connections and channels (round trips) opened.
 */
import * as vm from "../provider/resources/vm";
import { closeAllSshTransports, sshStats } from "../provider/transport";
import { haltingVm } from "../tests/helpers/haltingGuest";
import { connectionTo, type BenchContext } from "./context";
import { median, round, timed } from "./measure";
import type { TestHost } from "../tests/testbed/testbed";

export interface RefreshFigure {
  vms: number;
  /** From a fresh pool: includes one SSH handshake per host reached. */
  wallMs: number;
  connections: number;
  channels: number;
  /** The same reads again on the now open connections: what coalescing alone costs. */
  warmWallMs: number;
}

type Made = { id: string; outs: vm.VmOutputs };

/** Starts `count` minimal VMs round robin over the hosts, all at once. */
export async function startMinimalVms(ctx: BenchContext, image: (h: TestHost) => string, prefix: string, count: number): Promise<Made[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => {
    const h = ctx.hosts[i % ctx.hosts.length];
    return vm.create(haltingVm(connectionTo(ctx, h), `${prefix}-${i}`, image(h)));
  }));
}

export async function removeVms(made: Made[]): Promise<void> {
  await Promise.all(made.map((m) => vm.remove(m.id, m.outs)));
}

export async function benchRefresh(ctx: BenchContext, image: (h: TestHost) => string): Promise<RefreshFigure[]> {
  const made = await startMinimalVms(ctx, image, "refresh", Math.max(...ctx.sizes.refreshSizes));
  const figures: RefreshFigure[] = [];
  try {
    for (const n of ctx.sizes.refreshSizes) {
      const runs: RefreshFigure[] = [];
      for (let i = 0; i < ctx.sizes.repeats; i++) {
        await closeAllSshTransports();
        const before = { ...sshStats };
        const { ms, value } = await timed(() => Promise.all(made.slice(0, n).map((m) => vm.read(m.id, m.outs))));
        const notRunning = value.filter((r) => r.props?.status !== "running");
        if (notRunning.length) throw new Error(`refresh of ${n}: ${notRunning.length} VMs not running: ${notRunning[0].props?.statusDetail}`);
        const after = { ...sshStats };
        const warm = await timed(() => Promise.all(made.slice(0, n).map((m) => vm.read(m.id, m.outs))));
        runs.push({ vms: n, wallMs: ms, connections: after.connections - before.connections, channels: after.channels - before.channels, warmWallMs: warm.ms });
      }
      const mid = (pick: (r: RefreshFigure) => number) => round(median(runs.map(pick)));
      figures.push({ vms: n, wallMs: mid((r) => r.wallMs), connections: mid((r) => r.connections), channels: mid((r) => r.channels), warmWallMs: mid((r) => r.warmWallMs) });
      ctx.log(`refresh ${n}: ${runs.map((r) => `${round(r.wallMs)} ms/${r.connections}c/${r.channels}ch, warm ${round(r.warmWallMs)} ms`).join("; ")}`);
    }
  } finally {
    await removeVms(made);
  }
  return figures;
}
