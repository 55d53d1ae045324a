/**
 * Issue 18, class 10: a path reaches QEMU's and qemu-img's own option parsers whatever characters
 * it holds. A working directory with a comma, a space, '=', ':' and non-ASCII characters holds a
 * base image, its linked clone, and a VM that boots from the clone (real qemu-img and QEMU, on
 * this machine); delete leaves nothing of the VM.
 */
import * as assert from "assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as disk from "../../provider/resources/disk";
import * as vm from "../../provider/resources/vm";
import type { Connection } from "../../provider/transport";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { isAlive, killProcess, liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";

describe("paths with any characters reach QEMU and qemu-img intact (real QEMU, this machine)", function () {
  this.timeout(120000);
  const root = mkdtempSync(path.join(tmpdir(), "pq-odd-"));
  const workDir = path.join(root, "a,b =c:d ä");
  const host: Connection = { kind: "local", workDir };
  after(() => {
    for (const pid of liveQemuPids(root)) killProcess(pid);
    rmSync(root, { recursive: true, force: true });
  });

  it("a base, its clone and a VM booting from the clone, under a working directory with , = : space and ä", async () => {
    mkdirSync(workDir, { recursive: true });
    const raw = path.join(workDir, "halt, =ä.img");
    writeFileSync(raw, haltBootSector());
    const base = await disk.create({ host, name: "base", path: path.join(workDir, "base, =ä.qcow2"), size: "16M" });
    const clone = await disk.create({ host, name: "clone", backingImage: base.outs.path });
    assert.strictEqual(clone.outs.backingFile, base.outs.path, "qemu-img recorded another backing file name");
    const inputs = haltingVm(host, "odd", raw);
    inputs.disks = [...inputs.disks!, { path: clone.outs.path, interface: "virtio" }];
    const made = await vm.create(inputs);
    assert.strictEqual(made.outs.status, "running", made.outs.statusDetail);
    assert.ok(isAlive(made.outs.pid!));
    await assert.rejects(disk.remove(base.id, base.outs), /it is the backing file of/);
    await vm.remove(made.id, made.outs);
    assert.strictEqual(isAlive(made.outs.pid!), false);
    assert.deepStrictEqual(await vmStateDirs(workDir, "odd"), []);
    await disk.remove(clone.id, clone.outs);
    await disk.remove(base.id, base.outs);
  });
});
