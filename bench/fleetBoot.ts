/**
 * 4. Fleet bring-up: N VMs of the real test guest (kernel + initramfs with dropbear) over the
 * hosts, all created at once, until every guest answers SSH on its forwarded port; against the
 * slowest of single boots (one per host, one at a time) measured in the same run.
 */
import * as os from "os";
import * as vm from "../provider/resources/vm";
import type { VmInputs } from "../provider/vm/spec";
import { procStat } from "../tests/helpers/processes";
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
  const guestVm = (h: TestHost, name: string): VmInputs => ({
    host: connectionTo(ctx, h), name, memory: "256M", accelerator: "tcg",
    kernel: `${hostGuest}/vmlinuz`, initrd: `${hostGuest}/initramfs.gz`, append: GUEST_APPEND,
    ports: [{ host: ++port, guest: 22 }],
    readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 300000 },
    stopTimeouts: { powerdownMs: 500, quitMs: 3000 },
  });
  const boot = async (h: TestHost, name: string) => {
    const made = await vm.create(guestVm(h, name));
    return { made, at: now() };
  };
  const singles: number[] = [];
  const singlesCpu: number[] = [];
  for (const [i, h] of ctx.hosts.entries()) {
    const { ms, value } = await timed(() => boot(h, `single-${i}`));
    singles.push(ms);
    singlesCpu.push(cpuMsOf(value.made.outs.pid));
    await vm.remove(value.made.id, value.made.outs);
  }
  const members = Array.from({ length: ctx.sizes.fleetSize }, (_, i) => ({ h: ctx.hosts[i % ctx.hosts.length], name: `fleet-${i}` }));
  const t0 = now();
  const settled = await Promise.allSettled(members.map((m) => boot(m.h, m.name)));
  const fleetMs = Math.max(...settled.map((s) => (s.status === "fulfilled" ? s.value.at : now()))) - t0;
  await Promise.all(settled.map((s) => (s.status === "fulfilled" ? vm.remove(s.value.made.id, s.value.made.outs) : undefined)));
  const failed = settled.find((s) => s.status === "rejected") as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  const slowest = Math.max(...singles);
  const slowestCpu = singlesCpu[singles.indexOf(slowest)];
  ctx.log(`fleet: singles ${singles.map((x) => round(x)).join(" ")} ms; ${members.length} at once ${round(fleetMs)} ms`);
  return { members: members.length, hosts: ctx.hosts.length, slowestSingleBootMs: round(slowest), singleBootsMs: singles.map((x) => round(x)),
    fleetMs: round(fleetMs), fleetOverSingle: round(fleetMs / slowest, 2),
    singleBootCpuMs: round(slowestCpu), cpuBoundFloorMs: round((members.length * slowestCpu) / os.cpus().length) };
}
