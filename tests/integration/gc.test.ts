/**
 * Issue 27, leases: `pulumi-qemu gc` (the built CLI) on this machine's working directory: it
 * lists every VM with owner, age, lease and state; with --expired it stops and removes only the
 * VMs whose lease has passed, and leaves a leased one, one without a lease, and one whose record
 * it cannot read; and then the disks only the expired VMs used (their own stack's), never one of
 * another stack's or one a live VM holds.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { Connection } from "../../provider/transport";
import * as vm from "../../provider/resources/vm";
import * as disk from "../../provider/resources/disk";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { isAlive, killProcess, liveQemuPids } from "../helpers/processes";

const CLI = path.join(__dirname, "../../provider/cli.js");

describe("pulumi-qemu gc (the CLI, real QEMU on this machine)", function () {
  this.timeout(120000);
  const workDir = mkdtempSync(path.join(tmpdir(), "pq-gc-"));
  const host: Connection = { kind: "local", workDir };
  const image = path.join(workDir, "halt.img");
  const gc = (...args: string[]) => execFileSync("node", [CLI, "gc", "--work-dir", workDir, ...args]).toString();
  after(() => {
    for (const pid of liveQemuPids(`-pidfile ${workDir}/`)) killProcess(pid);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("lists owner, age, lease and state; --expired removes only the expired VM, its QEMU and state directory", async () => {
    writeFileSync(image, haltBootSector());
    const as = (name: string, stack: string, expiresAfter?: string) => vm.create({ ...haltingVm(host, name, image), owner: { project: "lab", stack, resource: name }, expiresAfter });
    const expired = await as("ci-job", "ci-41", "1s");
    const leased = await as("held", "ci-42", "2h");
    const open = await as("kept", "dev");
    const unreadable = await as("odd", "dev", "1s");
    writeFileSync(path.join(unreadable.outs.stateDir, "owner"), "{ cut short");
    await new Promise((r) => setTimeout(r, 1500));

    const listed = gc();
    assert.match(listed, new RegExp(`ci-job\\.[0-9a-f]{8}\\s+project lab, stack ci-41, resource ci-job\\s+\\d+s\\s+expired \\d+s ago\\s+running \\(pid ${expired.outs.pid}\\)`));
    assert.match(listed, /held\.[0-9a-f]{8}\s+project lab, stack ci-42, resource held\s+\d+s\s+expires in 1h59m\s+running/);
    assert.match(listed, /kept\.[0-9a-f]{8}\s+project lab, stack dev, resource kept\s+\d+s\s+none\s+running/);
    assert.match(listed, /odd\.[0-9a-f]{8}\s+an owner whose record cannot be read\s+-\s+none\s+running/);
    assert.ok(isAlive(expired.outs.pid!), "listing stopped something");

    const collected = gc("--expired");
    assert.match(collected, /1 expired VM\(s\) removed/);
    assert.ok(!isAlive(expired.outs.pid!), "the expired VM runs on");
    assert.ok(!existsSync(expired.outs.stateDir), "its state directory is left");
    for (const v of [leased, open, unreadable]) assert.ok(isAlive(v.outs.pid!), `gc stopped ${v.outs.stateDir}`);
    assert.ok(existsSync(image), "gc removed a disk");
    for (const v of [leased, open]) await vm.remove(v.id, v.outs);
  });

  it("an update renews the lease, so gc leaves the VM", async () => {
    const made = await vm.create({ ...haltingVm(host, "renewed", image), owner: { stack: "s" }, expiresAfter: "1s" });
    await new Promise((r) => setTimeout(r, 1200));
    assert.match(gc(), /renewed\.[0-9a-f]{8} .*expired/);
    const updated = await vm.update(made.id, made.outs, { ...haltingVm(host, "renewed", image), owner: { stack: "s" }, expiresAfter: "1h" });
    assert.match(gc("--expired"), /0 expired VM\(s\) removed/);
    assert.ok(isAlive(updated.outs.pid!));
    await vm.remove(made.id, updated.outs);
  });

  it("--expired then removes the disks only the expired VM used, of its own stack; another stack's, and one a live VM holds, stay", async () => {
    const made = async (name: string, stack: string) => (await disk.create({ host, name, size: "1M", owner: { project: "lab", stack, resource: name } })).outs;
    const [own, foreign, held] = [await made("scratch", "ci-43"), await made("theirs", "other"), await made("held", "ci-43")];
    const writable = (d: { path: string }) => ({ path: d.path, format: "qcow2" as const, interface: "virtio" as const });
    const base = haltingVm(host, "job", image);
    const job = await vm.create({ ...base, disks: [...base.disks!, writable(own), writable(foreign), writable(held)], owner: { project: "lab", stack: "ci-43", resource: "job" }, expiresAfter: "1s" });
    killProcess(job.outs.pid!); // the job's QEMU is gone too (a crashed CI job), so that a live VM can take `held`
    while (isAlive(job.outs.pid!)) await new Promise((r) => setTimeout(r, 50));
    const live = haltingVm(host, "live", image);
    const liveVm = await vm.create({ ...live, disks: [...live.disks!, writable(held)], owner: { project: "lab", stack: "dev", resource: "live" } });
    await new Promise((r) => setTimeout(r, 1200));

    const collected = gc("--expired");
    assert.match(collected, /1 expired VM\(s\) removed, and 1 disk\(s\) only they used/);
    assert.ok(!existsSync(own.path) && !existsSync(path.join(workDir, "disks", `.${path.basename(own.path)}.owner`)), "the job's own disk, or its owner record, is left");
    assert.match(collected, new RegExp(`Disk ${foreign.path}: left: .* belongs to project lab, stack other, resource theirs`));
    assert.match(collected, new RegExp(`Disk ${held.path}: left: .*stays: a running VM uses it \\(VM live`));
    assert.ok(existsSync(foreign.path) && existsSync(held.path));
    assert.ok(isAlive(liveVm.outs.pid!), "gc stopped the live VM");
    await vm.remove(liveVm.id, liveVm.outs);
    for (const d of [foreign, held]) await disk.remove(`disk:${d.path}`, d);
  });
});
