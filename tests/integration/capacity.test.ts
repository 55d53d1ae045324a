/**
 * Issue 27, capacity across stacks, on this machine (the ledger in the SSH user's home, here
 * root's): a start that would take the host past its memory is refused before QEMU starts,
 * naming memory, the figures and the stacks that hold the rest; nothing is left of it. A Host's
 * memoryOvercommit moves the limit both ways.
 */
import * as assert from "assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { Connection } from "../../provider/transport";
import * as vm from "../../provider/resources/vm";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { killProcess, liveQemuPids, vmQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";

describe("memory across stacks (real QEMU on this machine)", function () {
  this.timeout(120000);
  const workDir = mkdtempSync(path.join(tmpdir(), "pq-capacity-"));
  const host: Connection = { kind: "local", workDir };
  const image = path.join(workDir, "halt.img");
  after(() => {
    for (const pid of liveQemuPids(`-pidfile ${workDir}/`)) killProcess(pid);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("a VM that would pass the host's memory is refused with the figures and the holders; one that fits starts", async () => {
    writeFileSync(image, haltBootSector());
    const totalMiB = Math.floor(Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))![1]) / 1024);
    const held = await vm.create({ ...haltingVm(host, "holder", image), owner: { project: "lab", stack: "one", resource: "holder" } });
    assert.strictEqual(held.outs.status, "running");

    const big = { ...haltingVm(host, "big", image), memory: `${totalMiB - 16}M`, owner: { project: "lab", stack: "two", resource: "big" } };
    await assert.rejects(vm.create(big), (e: Error & { property?: string }) => {
      assert.strictEqual(e.property, "memory", e.message);
      assert.match(e.message, new RegExp(`VM big needs ${((totalMiB - 16) / 1024).toFixed(2)} GiB, but the host has \\d+\\.\\d\\d GiB \\(VMs may take 100% by the Host's memoryOvercommit: \\d+\\.\\d\\d GiB\\) and its running VMs already hold \\d+\\.\\d\\d GiB: .*project lab, stack one, resource holder \\(VM holder, ${held.outs.stateDir}\\): 33554432 bytes, 1 vCPUs`));
      assert.match(e.message, /nothing was started$/);
      return true;
    });
    assert.deepStrictEqual(vmQemuPids("big"), [], "QEMU was started");
    assert.deepStrictEqual(await vmStateDirs(workDir, "big"), [], "the refused create left a state directory");

    const fits = await vm.create({ ...big, memory: "64M" });
    assert.strictEqual(fits.outs.status, "running");
    // Overcommitted 2x, the same big VM starts beside the others (guest memory is taken as it is touched).
    const bigOn2x = await vm.create({ ...big, name: "big2x", host: { ...host, memoryOvercommit: 2 } });
    assert.strictEqual(bigOn2x.outs.status, "running");
    await vm.remove(bigOn2x.id, bigOn2x.outs);
    // Kept to half, a VM of 60% is refused, naming the limit.
    const halfHost = { ...host, memoryOvercommit: 0.5 };
    await assert.rejects(vm.create({ ...big, name: "big05", memory: `${Math.floor(totalMiB * 0.6)}M`, host: halfHost }), (e: Error & { property?: string }) =>
      e.property === "memory" && /VMs may take 50% by the Host's memoryOvercommit/.test(e.message));
    assert.deepStrictEqual(vmQemuPids("big05"), []);
    await assert.rejects(vm.check!({}, { ...big, host: { ...host, memoryOvercommit: 0 } }).then((r) => { if (r.failures?.length) throw new Error(r.failures.map((f) => `${f.property}: ${f.reason}`).join()); }),
      /host\.memoryOvercommit: must be a number from 0\.1 to 10/);
    // Stopped, a VM's memory is free again: the big one would now fit beside nothing but "fits".
    await vm.remove(held.id, held.outs);
    await vm.remove(fits.id, fits.outs);
  });
});
