/**
 * Issue 27, ownership: two stacks declaring the same Vm name in one working directory of one SSH
 * host (the same SSH user), through the serialized provider. Each gets its own state directory
 * and QEMU; neither reads, stops nor deletes the other's; a directory whose owner record is
 * another's is refused naming that owner, with nothing touched; a VM an older release made is
 * claimed only by the state that recorded it.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { vmLayoutAt } from "../../provider/layout";
import { ownerId } from "../../provider/vm/owner";
import { vmProvider } from "../../sdk/vm";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { isAlive, killProcess, vmQemuPids } from "../helpers/processes";
import { readFileSync } from "fs";
import { guestExec } from "../helpers/guest";
import { AUTO_PORTS } from "../../provider/vm/ports";
import { GUEST_APPEND, sshOptionsFor, testbed } from "../testbed/testbed";

describe("Vm ownership on a shared host (two stacks, one name, one working directory; real QEMU over SSH)", function () {
  this.timeout(120000);
  const [h1] = testbed().hosts;
  const run = randomBytes(3).toString("hex");
  const workDir = `${h1.workDir}/owner-${run}`;
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir };
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const name = `hold-${run}`;
  const image = `${workDir}/halt.img`;
  const asStack = (stack: string) => ({ ...haltingVm(conn, name, image), owner: { project: "lab", stack, resource: "hold" } });
  const cat = async (file: string) => (await onHost().exec(["cat", file])).stdout;
  let vmP: pulumi.dynamic.ResourceProvider;

  before(async () => {
    vmP = (await roundTripProvider(vmProvider)).provider;
    await onHost().exec(["mkdir", "-p", workDir]);
    await onHost().writeFile(image, haltBootSector());
  });
  after(async () => {
    await onHost().exec(["sh", "-c", `pkill -KILL -f -- "guest=${name}" ; rm -rf -- "$1"`, "x", workDir]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("A's VM dies, C declares the same name: C gets its own VM; A's refresh and destroy never touch it; both then run side by side", async () => {
    const a = await vmP.create!(asStack("a"));
    assert.strictEqual(a.outs.status, "running", a.outs.statusDetail);
    assert.match(a.outs.stateDir, new RegExp(`/vms/${name}\\.[0-9a-f]{8}$`));
    assert.ok(!JSON.stringify(a.outs.stateDir).includes(a.outs.ownerToken), "the token is in the directory name");
    const record = JSON.parse(await cat(vmLayoutAt(a.outs.stateDir).owner));
    assert.deepStrictEqual({ ...record, created: undefined }, { id: ownerId(a.outs.ownerToken), project: "lab", stack: "a", resource: "hold", created: undefined });
    assert.strictEqual((await onHost().exec(["stat", "-c", "%a", vmLayoutAt(a.outs.stateDir).owner])).stdout.trim(), "600");

    killProcess(a.outs.pid); // A's QEMU dies
    const c = await vmP.create!(asStack("c"));
    assert.strictEqual(c.outs.status, "running", c.outs.statusDetail);
    assert.notStrictEqual(c.outs.stateDir, a.outs.stateDir);

    const aRead = (await vmP.read!(a.id, a.outs)).props!;
    assert.strictEqual(aRead.status, "stopped", "A's refresh took C's QEMU for its own");
    assert.strictEqual(aRead.pid, undefined);
    const aUp = await vmP.update!(a.id, aRead, asStack("a"));
    assert.strictEqual(aUp.outs.status, "running");
    assert.notStrictEqual(aUp.outs.pid, c.outs.pid);
    assert.deepStrictEqual(vmQemuPids(name).sort(), [aUp.outs.pid, c.outs.pid].sort(), "two VMs of one name side by side");

    await vmP.delete!(a.id, aUp.outs);
    assert.ok(!isAlive(aUp.outs.pid), "A's destroy left A's VM");
    assert.ok(isAlive(c.outs.pid), "A's destroy stopped C's VM");
    assert.strictEqual((await vmP.read!(c.id, c.outs)).props!.pid, c.outs.pid);
    await vmP.delete!(c.id, c.outs);
    assert.deepStrictEqual(vmQemuPids(name), []);
  });

  it("a state directory whose owner record is another's: read, update and delete refuse naming that owner, and its QEMU runs on", async () => {
    const mine = await vmP.create!(asStack("mine"));
    const theirs = await vmP.create!(asStack("theirs"));
    const layout = vmLayoutAt(mine.outs.stateDir);
    const own = await cat(layout.owner);
    try {
      await onHost().writeFile(layout.owner, await cat(vmLayoutAt(theirs.outs.stateDir).owner));
      const refusal = /belongs to project lab, stack theirs, resource hold, not to this resource; nothing of it \(nor its QEMU\) was touched/;
      await assert.rejects(vmP.read!(mine.id, mine.outs), refusal);
      await assert.rejects(vmP.update!(mine.id, mine.outs, { ...asStack("mine"), memory: "48M" }), refusal);
      await assert.rejects(vmP.delete!(mine.id, mine.outs), refusal);
      assert.ok(isAlive(mine.outs.pid), "a refused operation stopped the VM");

      await onHost().writeFile(layout.owner, "{ cut short");
      await assert.rejects(vmP.delete!(mine.id, mine.outs), /belongs to an owner whose record cannot be read/);
      assert.ok(isAlive(mine.outs.pid), "an unreadable record did not fail closed");
    } finally {
      await onHost().writeFile(layout.owner, own);
    }
    await vmP.delete!(mine.id, mine.outs);
    await vmP.delete!(theirs.id, theirs.outs);
    assert.deepStrictEqual(vmQemuPids(name), []);
  });

  it("a VM an older release made (no token, its own name as directory) is read as before and claimed by its next update", async () => {
    const made = await vmP.create!(asStack("old"));
    // As an older release recorded it: the directory named after the VM, no token, no record.
    const legacyDir = `${workDir}/vms/${name}`;
    await vmP.delete!(made.id, made.outs);
    const { ownerToken: _token, ...older } = { ...made.outs, stateDir: legacyDir, serialLog: `${legacyDir}/serial.log`, status: "stopped" as const, pid: undefined };
    const started = await vmP.update!(made.id, older, asStack("old"));
    assert.strictEqual(started.outs.status, "running", started.outs.statusDetail);
    assert.strictEqual(started.outs.stateDir, legacyDir, "the older VM moved to another directory");
    assert.match(started.outs.ownerToken, /^[0-9a-f]{64}$/);
    assert.strictEqual(JSON.parse(await cat(`${legacyDir}/owner`)).id, ownerId(started.outs.ownerToken), "the update did not claim it");
    // Another state that recorded the same older VM (no token) can no longer act on it.
    await assert.rejects(vmP.delete!(made.id, { ...started.outs, ownerToken: undefined }), /belongs to project lab, stack old/);
    assert.ok(isAlive(started.outs.pid));
    await vmP.delete!(made.id, started.outs);
    assert.ok(!isAlive(started.outs.pid));
  });

  it("two stacks of one program with forwards without a host port: each guest answers on its own, kept across a restart", async () => {
    const bed = testbed();
    const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
    const guest = (stack: string, memory = "256M") => ({
      host: conn, name: `pair-${run}`, memory, accelerator: "tcg", owner: { project: "lab", stack, resource: "pair" },
      kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: GUEST_APPEND,
      ports: [{ guest: 22 }], guestPrivateKey: guestKey,
      readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, timeoutMs: 90000 }, stopTimeouts: { powerdownMs: 0, quitMs: 3000 },
    });
    const [one, two] = await Promise.all([vmP.create!(guest("one")), vmP.create!(guest("two"))]);
    const ports = [one, two].map((v) => v.outs.guestConnection.port as number);
    assert.notStrictEqual(ports[0], ports[1]);
    for (const p of ports) assert.ok(p >= AUTO_PORTS.lo && p <= AUTO_PORTS.hi, `port ${p} is outside the ledger's range`);
    assert.deepStrictEqual(one.outs.autoPorts, { "tcp/22": ports[0] });
    const [nameOne, nameTwo] = await Promise.all([one, two].map(async (v) => (await guestExec(v.outs.guestConnection, guestKey, ["cat", "/proc/cmdline"])).stdout));
    assert.match(nameOne, /console=/, "guest one did not answer on its port");
    assert.match(nameTwo, /console=/, "guest two did not answer on its port");

    const restarted = (await vmP.update!(one.id, one.outs, guest("one", "288M"))).outs;
    assert.notStrictEqual(restarted.pid, one.outs.pid, "the memory change did not restart it");
    assert.strictEqual(restarted.guestConnection.port, ports[0], "the restart moved its port");
    await vmP.delete!(one.id, restarted);
    await vmP.delete!(two.id, two.outs);
    assert.deepStrictEqual(vmQemuPids(`pair-${run}`), []);
  });
});
