/**
 * 4. Fleet bring-up: N VMs of the real test guest (kernel + initramfs with dropbear, the guest
 * agent, a linked clone each) over the hosts, all created at once, until every guest answers
 * SSH on its forwarded port; against the slowest of single boots (one per host, one at a time)
 * measured in the same run. Then warm (issue 32): a WarmState per host (its build timed apart),
 * and the same N resumed from them at once; the members' total memory (the sum of their QEMUs'
 * proportional set sizes, which splits the shared pages of the saved RAM among its mappers) of
 * each bring-up once every member answers.
 */
import * as os from "os";
import { readFileSync } from "fs";
import * as vm from "../provider/resources/vm";
import * as disk from "../provider/resources/disk";
import * as warmState from "../provider/resources/warmState";
import { transportFor } from "../provider/transport";
import type { VmInputs } from "../provider/vm/spec";
import { procStat, rootPidOf } from "../tests/helpers/processes";
import { testbed, type TestHost, GUEST_APPEND } from "../tests/testbed/testbed";
import { connectionTo, type BenchContext } from "./context";
import { now, round, timed } from "./measure";
import { firstForwardPort } from "../tests/helpers/ports";

export interface FleetFigures {
  members: number;
  hosts: number;
  /** Slowest of the single boots, ms. */
  slowestSingleBootMs: number;
  singleBootsMs: number[];
  fleetMs: number;
  /** fleet / slowest single (target <= 1.3). */
  fleetOverSingle: number;
  /** CPU time (user + system) the slowest single boot's QEMU used until ready, ms. */
  singleBootCpuMs: number;
  /** What the machine's cores allow at best: members x that CPU time / cores, ms. */
  cpuBoundFloorMs: number;
  /** The members' total proportional set size once all answered, MiB. */
  coldPssMiB: number;
  /** Building the WarmStates, one per host at once (boot, save), ms. */
  warmBuildMs: number;
  /** The same members resumed from them at once, until every guest answers SSH, ms. */
  warmMs: number;
  warmPssMiB: number;
  /** warm / cold (target <= 0.15) and their memory (target <= 0.6). */
  warmOverCold: number;
  warmPssOverCold: number;
}

/** A process's proportional set size, MiB (shared pages split among the processes that map them); `pid` in its host's namespace. */
function pssMiB(pid: number | undefined): number {
  const root = pid ? rootPidOf(pid) : undefined;
  const m = root ? /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${root}/smaps_rollup`, "utf8")) : null;
  if (!m) throw new Error(`no Pss for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** user + system CPU time of a process so far, ms (the test hosts share this machine's /proc). */
function cpuMsOf(pid: number | undefined): number {
  if (!pid) return NaN;
  const fields = procStat(pid);
  const ticksPerSecond = 100; // USER_HZ on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

const READY = "PULUMI-QEMU-GUEST-READY";

export async function benchFleetBoot(ctx: BenchContext): Promise<FleetFigures> {
  const hostGuest = testbed().hosts[0].guestDir; // the kernel and initramfs on the hosts
  let port = firstForwardPort();
  const base = `${hostGuest}/base.qcow2`;
  const guestVm = (h: TestHost, name: string, diskPath?: string, warmFrom?: string): VmInputs => ({
    host: connectionTo(ctx, h), name, memory: "256M", accelerator: "tcg",
    kernel: `${hostGuest}/vmlinuz`, initrd: `${hostGuest}/initramfs.gz`, append: GUEST_APPEND,
    ports: [{ host: ++port, guest: 22 }], guestAgent: true, ...(diskPath ? { disks: [diskPath] } : {}), ...(warmFrom ? { warmFrom } : {}),
    readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 300000 },
    stopTimeouts: { powerdownMs: 500, quitMs: 3000 },
  });
  /** A member: its clone (of the base, or of a WarmState's disk), its VM, when it answered. */
  const boot = async (h: TestHost, name: string, backing = base, warmFrom?: string) => {
    const clone = await disk.create({ host: connectionTo(ctx, h), name: `${name}-disk`, backingImage: backing });
    const made = await vm.create(guestVm(h, name, clone.outs.path, warmFrom));
    return { made, clone, at: now() };
  };
  const removeAll = async (all: Array<Awaited<ReturnType<typeof boot>>>) => {
    for (const m of all) {
      await vm.remove(m.made.id, m.made.outs);
      await disk.remove(m.clone.id, m.clone.outs);
    }
  };
  const singles: number[] = [];
  const singlesCpu: number[] = [];
  for (const [i, h] of ctx.hosts.entries()) {
    const { ms, value } = await timed(() => boot(h, `single-${i}`));
    singles.push(ms);
    singlesCpu.push(cpuMsOf(value.made.outs.pid));
    await removeAll([value]);
  }
  const members = Array.from({ length: ctx.sizes.fleetSize }, (_, i) => ({ h: ctx.hosts[i % ctx.hosts.length], name: `fleet-${i}` }));
  /** All members at once; their bring-up time and total PSS once all answered, then removed. */
  const bringUp = async (from: (h: TestHost) => { backing?: string; warmFrom?: string }) => {
    const t0 = now();
    const settled = await Promise.allSettled(members.map((m) => boot(m.h, m.name, from(m.h).backing, from(m.h).warmFrom)));
    const ms = Math.max(...settled.map((s) => (s.status === "fulfilled" ? s.value.at : now()))) - t0;
    const up = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const pss = up.length === members.length ? up.reduce((sum, m) => sum + pssMiB(m.made.outs.pid), 0) : NaN;
    await removeAll(up);
    const failed = settled.find((s) => s.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return { ms, pss };
  };
  const cold = await bringUp(() => ({}));
  // One WarmState per host, built at once; then the same members resumed from them.
  const built = await timed(() => Promise.all(ctx.hosts.map((h) => warmState.create({
    host: connectionTo(ctx, h), baseImage: base, memory: "256M", accelerator: "tcg", kernel: `${hostGuest}/vmlinuz`, initrd: `${hostGuest}/initramfs.gz`,
    append: GUEST_APPEND, nics: ["user"], readiness: { serialPattern: READY, timeoutMs: 300000 },
  }))));
  const states = new Map(ctx.hosts.map((h, i) => [h, built.value[i].outs]));
  let warm: { ms: number; pss: number };
  try {
    warm = await bringUp((h) => ({ backing: states.get(h)!.disk, warmFrom: states.get(h)!.dir }));
  } finally {
    for (const [h, st] of states) {
      await warmState.remove("", st);
      await warmState.removeUnusedWarmStates(transportFor(connectionTo(ctx, h)), connectionTo(ctx, h).workDir, () => undefined);
    }
  }
  const slowest = Math.max(...singles);
  const slowestCpu = singlesCpu[singles.indexOf(slowest)];
  ctx.log(`fleet: singles ${singles.map((x) => round(x)).join(" ")} ms; ${members.length} at once ${round(cold.ms)} ms (${round(cold.pss)} MiB); ` +
    `warm: states built in ${round(built.ms)} ms, ${members.length} resumed in ${round(warm.ms)} ms (${round(warm.pss)} MiB)`);
  return { members: members.length, hosts: ctx.hosts.length, slowestSingleBootMs: round(slowest), singleBootsMs: singles.map((x) => round(x)),
    fleetMs: round(cold.ms), fleetOverSingle: round(cold.ms / slowest, 2),
    singleBootCpuMs: round(slowestCpu), cpuBoundFloorMs: round((members.length * slowestCpu) / os.cpus().length),
    coldPssMiB: round(cold.pss), warmBuildMs: round(built.ms), warmMs: round(warm.ms), warmPssMiB: round(warm.pss),
    warmOverCold: round(warm.ms / cold.ms, 3), warmPssOverCold: round(warm.pss / cold.pss, 2) };
}
