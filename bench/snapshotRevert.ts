/**
 * 5. Snapshot with memory (issue 21): the test guest (256 MiB, TCG) on h1 with a data disk; the
 * provider takes a snapshot with memory once, then reverts to it `repeats` times (a changed
 * revertTrigger, as `up` sends it), each after the guest wrote; every revert is checked to
 * bring the guest's file back, so a fast revert that restores nothing cannot count.
 */
import { readFileSync } from "fs";
import * as disk from "../provider/resources/disk";
import * as snapshot from "../provider/resources/snapshot";
import * as vm from "../provider/resources/vm";
import { stateDirName } from "../provider/layout";
import { testbed, GUEST_APPEND } from "../tests/testbed/testbed";
import { connectionTo, type BenchContext } from "./context";
import { median, round, timed } from "./measure";
import { firstForwardPort } from "../tests/helpers/ports";
import { guestExec } from "../tests/helpers/guest";

export interface SnapshotFigures {
  guestMemoryMiB: number;
  /** Taking the snapshot with memory (savevm through QMP), ms. */
  takeMs: number;
  /** Median of the reverts (loadvm through QMP, the whole provider update), ms. */
  revertMs: number;
  revertsMs: number[];
}

export async function benchSnapshotRevert(ctx: BenchContext): Promise<SnapshotFigures> {
  const guest = testbed().guest.dir;
  const hostGuest = testbed().hosts[0].guestDir; // the kernel and initramfs on the hosts
  const h1 = ctx.hosts[0];
  const host = connectionTo(ctx, h1);
  const guestKey = readFileSync(`${guest}/id_ed25519`, "utf8");
  const port = firstForwardPort();
  const data = await disk.create({ host, name: "snap-data", size: "64M" });
  const made = await vm.create({
    host, name: "snap", memory: "256M", accelerator: "tcg", disks: [data.outs.path],
    kernel: `${hostGuest}/vmlinuz`, initrd: `${hostGuest}/initramfs.gz`, append: GUEST_APPEND,
    ports: [{ host: port, guest: 22 }], guestPrivateKey: guestKey,
    readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, timeoutMs: 180000 },
    stopTimeouts: { powerdownMs: 0, quitMs: 3000 },
  });
  const g = made.outs.guestConnection ?? { host: h1.address, port };
  const inGuest = async (script: string) => (await guestExec(g, guestKey, ["sh", "-c", script])).stdout.trim();
  try {
    await inGuest("echo clean > /tmp/f");
    const inputs = { host, vm: stateDirName(made.outs.stateDir), name: "clean", memory: true, revertTrigger: 0 };
    const taken = await timed(() => snapshot.create(inputs));
    let outs = taken.value.outs;
    const reverts: number[] = [];
    for (let i = 1; i <= ctx.sizes.repeats; i++) {
      await inGuest(`echo dirty-${i} > /tmp/f`);
      const r = await timed(() => snapshot.update(taken.value.id, outs, { ...inputs, revertTrigger: i }));
      outs = r.value.outs;
      const seen = await inGuest("cat /tmp/f");
      if (seen !== "clean") throw new Error(`snapshot bench: after revert ${i} the guest's file holds ${JSON.stringify(seen)}, not "clean"`);
      reverts.push(r.ms);
    }
    await snapshot.remove(taken.value.id, outs);
    ctx.log(`snapshot: take ${round(taken.ms)} ms; reverts ${reverts.map((x) => round(x)).join(" ")} ms`);
    return { guestMemoryMiB: 256, takeMs: round(taken.ms), revertMs: round(median(reverts)), revertsMs: reverts.map((x) => round(x)) };
  } finally {
    await vm.remove(made.id, made.outs);
    await disk.remove(data.id, data.outs);
  }
}
