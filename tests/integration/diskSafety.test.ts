/**
 * Issue 18, class 4: a Disk's delete and resize fail closed, on a real SSH test host with real
 * qemu-img and QEMU. The clones of a base are found by parsing qemu-img's JSON (a base whose path
 * has non-ASCII characters, which QEMU escapes as \uXXXX), by the base's own record (a clone in
 * another working directory), and by file identity (a clone naming the base by another spelling);
 * an image that cannot be read refuses the delete; a VM that declares a disk keeps it.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import * as disk from "../../provider/resources/disk";
import * as vm from "../../provider/resources/vm";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { sshOptionsFor, testbed } from "../testbed/testbed";

describe("Disk delete and resize fail closed (issue 18, class 4; real qemu-img on an SSH host)", function () {
  this.timeout(120000);
  const [h1] = testbed().hosts;
  const root = `${h1.workDir}/disk-safety-${randomBytes(3).toString("hex")}`;
  const conn = (workDir: string): Connection => ({ kind: "ssh", ...sshOptionsFor(h1), workDir });
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const exists = async (p: string) => (await onHost().exec(["test", "-e", p])).exitCode === 0;
  const made: Array<{ id: string; outs: disk.DiskOutputs }> = [];
  const create = async (inputs: disk.DiskInputs) => {
    const r = await disk.create(inputs);
    made.push(r);
    return r;
  };

  /** A 16M Disk `diskName` and a running VM `vmName` (a halting boot sector) that has it attached. */
  const vmHolding = async (workDir: string, vmName: string, diskName: string) => {
    const data = await create({ host: conn(workDir), name: diskName, size: "16M" });
    await onHost().writeFile(`${workDir}/halt.img`, haltBootSector());
    const inputs = { ...haltingVm(conn(workDir), vmName, `${workDir}/halt.img`) };
    inputs.disks = [...inputs.disks!, { path: data.outs.path, interface: "virtio" }];
    return { data, inputs, running: await vm.create(inputs) };
  };

  before(async () => void await onHost().exec(["mkdir", "-p", `${root}/a`, `${root}/b`]));
  after(async () => {
    await onHost().exec(["rm", "-rf", "--", root]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("a base whose path has non-ASCII characters keeps its clone (qemu-img's JSON escapes them)", async () => {
    const base = await create({ host: conn(`${root}/a`), name: "base", path: `${root}/a/bäse ü€.qcow2`, size: "16M" });
    const clone = await create({ host: conn(`${root}/a`), name: "clone", backingImage: base.outs.path });
    await assert.rejects(disk.remove(base.id, base.outs), new RegExp(`it is the backing file of ${clone.outs.path}`));
    assert.ok(await exists(base.outs.path), "the base was deleted under its clone");
    await disk.remove(clone.id, clone.outs);
    await disk.remove(base.id, base.outs);
    assert.ok(!await exists(base.outs.path));
  });

  it("a clone in another working directory is found by the base's record of it", async () => {
    const base = await create({ host: conn(`${root}/a`), name: "shared-base", size: "16M" });
    const clone = await create({ host: conn(`${root}/b`), name: "far-clone", backingImage: base.outs.path });
    await assert.rejects(disk.remove(base.id, base.outs), new RegExp(`it is the backing file of ${clone.outs.path}`));
    assert.ok(await exists(base.outs.path));
    await disk.remove(clone.id, clone.outs);
    await disk.remove(base.id, base.outs);
    assert.ok(!await exists(base.outs.path), "the base stayed once its clone was gone");
  });

  it("a clone naming the base by another spelling (a symlinked directory) is found by file identity", async () => {
    const base = await create({ host: conn(`${root}/a`), name: "linked-base", size: "16M" });
    await onHost().exec(["ln", "-s", `${root}/a`, `${root}/alias`]);
    const clone = await create({ host: conn(`${root}/a`), name: "alias-clone", backingImage: base.outs.path.replace(`${root}/a/`, `${root}/alias/`) });
    await assert.rejects(disk.remove(base.id, base.outs), new RegExp(`it is the backing file of ${clone.outs.path}`));
    await disk.remove(clone.id, clone.outs);
    await disk.remove(base.id, base.outs);
  });

  it("an image whose qcow2 header cannot be read refuses the delete, naming it: cannot tell is never none", async () => {
    const base = await create({ host: conn(`${root}/a`), name: "lonely", size: "16M" });
    const broken = `${root}/a/broken.qcow2`;
    await onHost().writeFile(broken, Buffer.concat([Buffer.from("QFI\xfb", "latin1"), Buffer.alloc(60, 0xff)]));
    await assert.rejects(disk.remove(base.id, base.outs), new RegExp(`cannot tell whether these images use it as their backing file: ${broken} \\(a backing file field out of range\\)`));
    assert.ok(await exists(base.outs.path));
    await onHost().exec(["rm", "-f", broken]);
    await disk.remove(base.id, base.outs);
  });

  it("a VM that declares a disk keeps it, stopped or not (the record, not only QEMU's lock)", async () => {
    const workDir = `${root}/a`;
    const { data, inputs, running } = await vmHolding(workDir, "holder", "data");
    const stopped = await vm.update(running.id, running.outs, { ...inputs, state: "stopped" });
    assert.strictEqual(stopped.outs.status, "stopped");
    await assert.rejects(disk.remove(data.id, data.outs), (e: Error & { code?: string }) => e.code === "IN_USE" && /not deleting disk .*data\.[0-9a-f]{8}\.qcow2: VM holder of this working directory declares it/.test(e.message));
    assert.ok(await exists(data.outs.path));
    await vm.remove(running.id, stopped.outs);
    await disk.remove(data.id, data.outs);
    assert.ok(!await exists(data.outs.path));
  });

  it("a disk a running VM holds grows in place through its QEMU; a shrink is refused and changes nothing", async () => {
    const workDir = `${root}/a`;
    const { data, running } = await vmHolding(workDir, "grower", "grown");
    const pid = running.outs.pid;
    const grown = await disk.update(data.id, data.outs, { host: conn(workDir), name: "grown", size: "32M" });
    assert.strictEqual(grown.outs.virtualSizeBytes, 32 * 2 ** 20);
    // What QEMU itself now reports for the attached image, and the same QEMU still runs.
    const info = JSON.parse((await onHost().exec(["qemu-img", "info", "-U", "--output=json", data.outs.path])).stdout) as { "virtual-size": number };
    assert.strictEqual(info["virtual-size"], 32 * 2 ** 20);
    const seen = await vm.read(running.id, running.outs);
    assert.deepStrictEqual([seen.props?.status, seen.props?.pid], ["running", pid]);
    await assert.rejects(disk.update(data.id, grown.outs, { host: conn(workDir), name: "grown", size: "16M", allowShrink: true }),
      (e: Error & { code?: string }) => e.code === "IN_USE" && /cannot shrink .*grown\.[0-9a-f]{8}\.qcow2 while a running VM holds it \(VM grower\)/.test(e.message));
    assert.strictEqual((await disk.read(data.id, grown.outs)).props?.virtualSizeBytes, 32 * 2 ** 20);
    await vm.remove(running.id, seen.props!);
    await disk.remove(data.id, grown.outs);
  });
});
