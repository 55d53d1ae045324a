/**
 * Snapshot and `state: "any"` through serialized providers, on a real SSH test host with real
 * QEMU (TCG) and the tiny guest: the guest writes, is snapshotted, writes again, and the revert
 * brings its data back; wrong inputs are refused, naming the property, before the host changes.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { withQmp } from "../../provider/qemu/qmp";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { stateDirName, vmLayoutAt } from "../../provider/layout";
import { diskProvider } from "../../sdk/disk";
import { snapshotProvider } from "../../sdk/snapshot";
import { vmProvider } from "../../sdk/vm";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { liveQemuPids, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, GUEST_APPEND } from "../testbed/testbed";
import { firstForwardPort } from "../helpers/ports";
import { guestExec } from "../helpers/guest";

const READY = "PULUMI-QEMU-GUEST-READY";

describe("Snapshot and state any (serialized providers, real QEMU on an SSH host)", function () {
  this.timeout(300000);
  const bed = testbed();
  const h1 = bed.hosts[0];
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const run = randomBytes(3).toString("hex");
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir: `${h1.workDir}/snap-${run}` };
  const onHost = () => sshTransport(sshOptionsFor(h1));
  let vmP: pulumi.dynamic.ResourceProvider;
  let diskP: pulumi.dynamic.ResourceProvider;
  let snapP: pulumi.dynamic.ResourceProvider;
  let port = firstForwardPort();
  const guestVm = (name: string, extra: Record<string, unknown> = {}) => ({
    host: conn, name, memory: "256M", accelerator: "tcg",
    kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: GUEST_APPEND,
    ports: [{ host: ++port, guest: 22 }], guestPrivateKey: guestKey,
    readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 90000 },
    stopTimeouts: { powerdownMs: 0, quitMs: 3000 }, ...extra,
  });
  const inGuest = async (g: { host: string; port: number }, script: string) => {
    const r = await guestExec(g, guestKey, ["sh", "-c", script]);
    assert.strictEqual(r.exitCode, 0, r.stderr);
    return r.stdout.trim();
  };
  /** The first bytes of the guest's first disk, as the guest reads them. */
  const diskHead = (g: { host: string; port: number }) => inGuest(g, "dd if=/dev/vda bs=4 count=1 2>/dev/null");
  /** The first bytes of an image as the guest sees them (qemu-io reads the qcow2 itself). */
  const imageHead = async (path: string) => (await onHost().exec(["qemu-io", "-r", "-U", "-f", "qcow2", "-c", "read -v 0 4", path])).stdout;
  const qmp = (stateDir: string, command: string) => withQmp(onHost(), vmLayoutAt(stateDir).qmpSocket, 5000, (q) => q.execute(command));
  const snapshotsOf = async (path: string) => JSON.parse((await onHost().exec(["qemu-img", "info", "-U", "--output=json", path])).stdout).snapshots?.map((s: { name: string }) => s.name) ?? [];

  before(async () => {
    vmP = (await roundTripProvider(vmProvider)).provider;
    diskP = (await roundTripProvider(diskProvider)).provider;
    snapP = (await roundTripProvider(snapshotProvider)).provider;
  });
  after(async () => {
    for (const pid of liveQemuPids(`/snap-${run}/`)) await onHost().exec(["kill", "-KILL", String(pid)]).catch(() => undefined);
    await onHost().exec(["rm", "-rf", "--", conn.workDir!]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("state any: created running; paused and killed by hand, refresh and up leave it so; a spec change still restarts it while it is up", async () => {
    const inputs = guestVm("free", { state: "any" });
    const created = await vmP.create!(inputs);
    assert.strictEqual(created.outs.status, "running");

    await qmp(created.outs.stateDir, "stop");
    const paused = (await vmP.read!(created.id, created.outs)).props!;
    assert.strictEqual(paused.status, "paused");
    assert.strictEqual((await vmP.diff!(created.id, paused, inputs)).changes, false, "a paused VM with state any is no change");
    const stillPaused = (await vmP.update!(created.id, paused, { ...inputs, readiness: { ...inputs.readiness, timeoutMs: 80000 } })).outs;
    assert.strictEqual(stillPaused.status, "paused", "an up of state any resumed the VM");
    assert.strictEqual(stillPaused.pid, created.outs.pid);

    await qmp(created.outs.stateDir, "cont");
    const restarted = (await vmP.update!(created.id, stillPaused, { ...inputs, memory: "288M" })).outs;
    assert.notStrictEqual(restarted.pid, created.outs.pid, "a changed spec restarts a VM of state any that is up");

    await onHost().exec(["kill", "-KILL", String(restarted.pid)]);
    const dead = (await vmP.read!(created.id, restarted)).props!;
    assert.strictEqual(dead.status, "stopped");
    assert.strictEqual((await vmP.diff!(created.id, dead, { ...inputs, memory: "288M" })).changes, false, "a stopped VM with state any is no change");
    const left = (await vmP.update!(created.id, dead, { ...inputs, memory: "288M", stopTimeouts: { powerdownMs: 0, quitMs: 2000 } })).outs;
    assert.strictEqual(left.status, "stopped", "an up of state any started the VM");
    assert.deepStrictEqual(vmQemuPids("free"), []);
    await vmP.delete!(created.id, left);
  });

  it("a running VM with memory: written, snapshotted, written again; the revert brings memory and disk back in place", async () => {
    const disk = await diskP.create!({ host: conn, name: "data", size: "64M" });
    const vm = await vmP.create!(guestVm("snap", { disks: [disk.outs.path] }));
    const g = vm.outs.guestConnection;
    await inGuest(g, "echo one > /tmp/f && printf AAAA | dd of=/dev/vda bs=4 count=1 conv=fsync 2>/dev/null");

    const snapInputs = { host: conn, vm: stateDirName(vm.outs.stateDir), name: "clean", memory: true, revertTrigger: 1 };
    assert.deepStrictEqual((await snapP.check!({}, snapInputs)).failures ?? [], []);
    const snap = await snapP.create!(snapInputs);
    assert.deepStrictEqual(snap.outs.images, [disk.outs.path]);
    assert.strictEqual(snap.outs.withMemory, true);
    assert.strictEqual(snap.outs.present, true);

    await inGuest(g, "echo two > /tmp/f && printf BBBB | dd of=/dev/vda bs=4 count=1 conv=fsync 2>/dev/null");
    assert.strictEqual(await inGuest(g, "cat /tmp/f"), "two");

    // Taking it again under the same name would overwrite it: refused, naming the property.
    await assert.rejects(snapP.create!(snapInputs), (e: Error & { property?: string }) => e.property === "name" && /already has a snapshot named clean/.test(e.message));

    const next = { ...snapInputs, revertTrigger: 2 };
    const d = await snapP.diff!(snap.id, snap.outs, next);
    assert.deepStrictEqual({ changes: d.changes, replaces: d.replaces }, { changes: true, replaces: [] }, "a revert is an update, not a replace");
    // How long it takes is a target of `npm run bench` (bench/snapshotRevert.ts), not asserted here.
    const reverted = await snapP.update!(snap.id, snap.outs, next);
    assert.strictEqual(await inGuest(g, "cat /tmp/f"), "one", "the guest's memory is back");
    assert.match(await diskHead(g), /^AAAA/, "the disk is back");
    assert.strictEqual((await vmP.read!(vm.id, vm.outs)).props!.pid, vm.outs.pid, "the VM was not restarted");

    // A clone made of the running VM's disk meanwhile (by hand here): the revert would change what it reads, so it is refused.
    const clonePath = `${conn.workDir}/disks/by-hand-clone.qcow2`;
    await onHost().exec(["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "qcow2", "-b", disk.outs.path, clonePath, "64M"]);
    await assert.rejects(snapP.update!(snap.id, reverted.outs, { ...snapInputs, revertTrigger: 3 }), new RegExp(`not reverting ${disk.outs.path}: it is the backing file of ${clonePath}`));
    assert.strictEqual(await inGuest(g, "cat /tmp/f"), "one", "the refused revert changed the guest");
    await onHost().exec(["rm", "-f", clonePath]);

    // A disk-only snapshot cannot revert a running VM: refused, nothing changes.
    const diskOnly = await snapP.create!({ host: conn, vm: stateDirName(vm.outs.stateDir), name: "disk-only", revertTrigger: "a" });
    assert.strictEqual(diskOnly.outs.withMemory, false);
    await assert.rejects(snapP.update!(diskOnly.id, diskOnly.outs, { ...diskOnly.outs, revertTrigger: "b" }), (e: Error & { property?: string }) => e.property === "revertTrigger" && /holds no memory/.test(e.message));

    // A revert to a snapshot deleted behind Pulumi's back: refresh says so, the revert names it.
    await snapP.delete!(diskOnly.id, diskOnly.outs);
    assert.deepStrictEqual(await snapshotsOf(disk.outs.path), ["clean"]);
    const gone = (await snapP.read!(diskOnly.id, diskOnly.outs)).props!;
    assert.strictEqual(gone.present, false);
    await assert.rejects(snapP.update!(diskOnly.id, gone, { ...diskOnly.outs, revertTrigger: "c" }), (e: Error & { property?: string }) => e.property === "name" && /no such snapshot \(snapshots there: clean\)/.test(e.message));

    await snapP.delete!(snap.id, reverted.outs);
    assert.deepStrictEqual(await snapshotsOf(disk.outs.path), []);
    await vmP.delete!(vm.id, vm.outs);
    await diskP.delete!(disk.id, disk.outs);
  });

  it("a VM restarted with more memory since its snapshot: the revert is refused before anything changes; without the record (an older release's snapshot) QEMU's failure never resumes the guest, and up restarts it from the reverted disk", async () => {
    const disk = await diskP.create!({ host: conn, name: "data-grown", size: "64M" });
    const inputs = guestVm("grown", { disks: [disk.outs.path] });
    const vm = await vmP.create!(inputs);
    await inGuest(vm.outs.guestConnection, "printf AAAA | dd of=/dev/vda bs=4 count=1 conv=fsync 2>/dev/null");
    const snap = await snapP.create!({ host: conn, vm: stateDirName(vm.outs.stateDir), name: "small", memory: true, revertTrigger: 1 });
    assert.strictEqual(snap.outs.machineAtSnapshot.memory, "256 MiB");
    await inGuest(vm.outs.guestConnection, "printf BBBB | dd of=/dev/vda bs=4 count=1 conv=fsync 2>/dev/null");
    const grownInputs = { ...inputs, memory: "288M" };
    const grown = (await vmP.update!(vm.id, vm.outs, grownInputs)).outs;
    assert.notStrictEqual(grown.pid, vm.outs.pid);

    await assert.rejects(snapP.update!(snap.id, snap.outs, { ...snap.outs, revertTrigger: 2 }), (e: Error & { property?: string }) =>
      e.property === "revertTrigger" && /VM grown was restarted with another machine since snapshot small was taken \(memory: 256 MiB -> 288 MiB\).*nothing was changed/.test(e.message));
    const untouched = (await vmP.read!(vm.id, grown)).props!;
    assert.deepStrictEqual([untouched.status, untouched.pid], ["running", grown.pid]);
    assert.match(await diskHead(grown.guestConnection), /^BBBB/, "the refused revert changed the disk");

    // A snapshot an older release took has no record of its machine: QEMU's loadvm decides, and fails.
    const unrecorded = { ...snap.outs, machineAtSnapshot: undefined };
    await assert.rejects(snapP.update!(snap.id, unrecorded, { ...snap.outs, revertTrigger: 2 }),
      /reverting VM grown to snapshot small: QEMU said: .*[Ss]ize mismatch[\s\S]*its memory is not: QEMU holds it stopped \(restore-vm\), and it is never resumed[\s\S]*pulumi up --refresh/);
    const seen = (await vmP.read!(vm.id, grown)).props!;
    assert.strictEqual(seen.status, "failed", `${seen.status}: ${seen.statusDetail}`);
    assert.match(seen.statusDetail, /restore-vm \(a revert to a snapshot failed .* never resumed, only restarted from its disks\)/);
    assert.strictEqual((await vmP.diff!(vm.id, seen, grownInputs)).changes, true, "refresh and up would leave it so");
    const repaired = (await vmP.update!(vm.id, seen, grownInputs)).outs;
    assert.notStrictEqual(repaired.pid, grown.pid, "the up resumed the half-reverted guest instead of restarting it");
    assert.strictEqual(repaired.status, "running");
    assert.match(await diskHead(repaired.guestConnection), /^AAAA/, "the disk is not the snapshot's");

    await snapP.delete!(snap.id, snap.outs);
    await vmP.delete!(vm.id, repaired);
    await diskP.delete!(disk.id, disk.outs);
  });

  it("a Disk: two snapshots, one deleted, the other reverts; a base that clones read is not reverted; raw and bad inputs refused", async () => {
    const base = await diskP.create!({ host: conn, name: "base", size: "16M" });
    const write = (bytes: string) => onHost().exec(["qemu-io", "-f", "qcow2", "-c", `write -P ${bytes} 0 4`, base.outs.path]);
    await write("0x41");
    const s1 = await snapP.create!({ host: conn, disk: base.outs.path, name: "s1", revertTrigger: 0 });
    await write("0x42");
    const s2 = await snapP.create!({ host: conn, disk: base.outs.path, name: "s2", revertTrigger: 0 });
    await write("0x43");
    await snapP.delete!(s1.id, s1.outs);
    assert.deepStrictEqual(await snapshotsOf(base.outs.path), ["s2"]);
    await snapP.update!(s2.id, s2.outs, { ...s2.outs, revertTrigger: 1 });
    assert.match(await imageHead(base.outs.path), /42 42 42 42/, "deleting s1 kept what s2 needs");

    // A linked clone reads through the base: reverting the base would change the clone's data.
    const clone = await diskP.create!({ host: conn, name: "clone", backingImage: base.outs.path });
    await assert.rejects(snapP.update!(s2.id, s2.outs, { ...s2.outs, revertTrigger: 2 }), /not reverting .*base.*backing file of .*clone/);
    assert.match(await imageHead(clone.outs.path), /42 42 42 42/);
    await snapP.delete!(s2.id, s2.outs);
    assert.match(await imageHead(clone.outs.path), /42 42 42 42/, "deleting a snapshot of the base kept what the clone reads");
    await diskP.delete!(clone.id, clone.outs);
    await diskP.delete!(base.id, base.outs);

    const raw = await diskP.create!({ host: conn, name: "raw", format: "raw", size: "1M" });
    await assert.rejects(snapP.create!({ host: conn, disk: raw.outs.path, name: "x" }), (e: Error & { property?: string }) => e.property === "disk" && /raw image; internal snapshots need qcow2/.test(e.message));
    await diskP.delete!(raw.id, raw.outs);

    const failures = async (i: Record<string, unknown>) => ((await snapP.check!({}, { host: conn, name: "ok", ...i })).failures ?? []).map((f) => f.property);
    assert.deepStrictEqual(await failures({ disk: "/d.qcow2", name: "12" }), ["name"], "a number is a snapshot ID to QEMU");
    assert.deepStrictEqual(await failures({ disk: "/d.qcow2", memory: true }), ["memory"]);
    assert.deepStrictEqual(await failures({ disk: "/d.qcow2", vm: "x" }), ["vm"]);
    assert.deepStrictEqual(await failures({ disk: "relative.qcow2" }), ["disk"]);
    assert.deepStrictEqual(await failures({ vm: "x", memory: "yes" }), ["memory"]);
  });

  it("a stopped VM (state stopped): memory refused; its disks are snapshotted and reverted with qemu-img", async () => {
    const disk = await diskP.create!({ host: conn, name: "cold", size: "16M" });
    const inputs = guestVm("cold", { disks: [disk.outs.path] });
    const vm = await vmP.create!(inputs);
    const stopped = (await vmP.update!(vm.id, vm.outs, { ...inputs, state: "stopped" })).outs;
    assert.strictEqual(stopped.status, "stopped");
    await assert.rejects(snapP.create!({ host: conn, vm: stateDirName(vm.outs.stateDir), name: "m", memory: true }), (e: Error & { property?: string }) => e.property === "memory" && /not running/.test(e.message));
    await onHost().exec(["qemu-io", "-f", "qcow2", "-c", "write -P 0x61 0 4", disk.outs.path]);
    const s = await snapP.create!({ host: conn, vm: stateDirName(vm.outs.stateDir), name: "before", revertTrigger: "x" });
    assert.deepStrictEqual(s.outs.images, [disk.outs.path]);
    await onHost().exec(["qemu-io", "-f", "qcow2", "-c", "write -P 0x62 0 4", disk.outs.path]);
    await snapP.update!(s.id, s.outs, { ...s.outs, revertTrigger: "y" });
    assert.match(await imageHead(disk.outs.path), /61 61 61 61/);
    await snapP.delete!(s.id, s.outs);
    await vmP.delete!(vm.id, stopped);
    await diskP.delete!(disk.id, disk.outs);
  });
});
