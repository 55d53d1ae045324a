/**
 * Host, HostCapabilities, Disk and Vm through their full create/read/update/delete paths on a
 * stand-in for a macOS host (tests/helpers/macosLikeTransport.ts): the facts are a macOS fixture,
 * everything else is real (sh scripts without /proc, qemu-img, QEMU under TCG, the aarch64
 * probe under TCG in place of hvf).
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as disk from "../../provider/resources/disk";
import * as host from "../../provider/resources/host";
import * as caps from "../../provider/resources/hostCapabilities";
import * as vm from "../../provider/resources/vm";
import type { Connection } from "../../provider/transport";
import { overrideTransports } from "../helpers/transportOverride";
import { vmLayout, vmLayoutAt } from "../../provider/layout";
import { observeArgv } from "../../provider/platform/posixVmScripts";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { isAlive, killProcess, liveQemuPids, vmQemuPids } from "../helpers/processes";
import { MacosLikeTransport, NO_PROC } from "../helpers/macosLikeTransport";

describe("a macOS host (stand-in: this machine with the Mac's facts and no /proc)", function () {
  this.timeout(120000);
  const workDir = mkdtempSync(path.join(tmpdir(), "pq-mac-"));
  const mac = new MacosLikeTransport("macos-arm64-hvf.txt");
  const ssh = { address: "mac-mini.lab", user: "ops", privateKey: "not used: the transport is replaced", insecureAcceptAnyHostKey: true };
  let connection: Connection;

  before(() => overrideTransports((c) => (c.kind === "ssh" && c.host === "mac-mini.lab" ? mac : undefined)));
  after(() => {
    overrideTransports(undefined);
    for (const pid of liveQemuPids(workDir)) killProcess(pid); // a failed test's VM

    rmSync(workDir, { recursive: true, force: true });
  });

  it("Host: create reports the Mac and makes the working directory; read and update agree", async () => {
    const created = await host.create({ ...ssh, workDir });
    assert.deepStrictEqual([created.outs.os, created.outs.arch, created.outs.cpuModel], ["Darwin", "arm64", "Apple M1 Pro"]);
    assert.strictEqual(created.outs.qemuImg, "/opt/homebrew/bin/qemu-img");
    connection = created.outs.connection;
    assert.strictEqual((await host.read(created.id, created.outs)).props?.os, "Darwin");
    assert.strictEqual((await host.update(created.id, created.outs, { ...ssh, workDir })).outs.workDir, workDir);
    await host.remove();
  });

  it("HostCapabilities: hvf is recommended for aarch64 guests after the aarch64 probe ran; tcg for x86_64", async () => {
    const created = await caps.create({ host: connection, guestArch: "aarch64", reprobe: true });
    const hvf = created.outs.accelerators.find((a) => a.name === "hvf")!;
    assert.strictEqual(hvf.usable, true, hvf.reason);
    assert.strictEqual(created.outs.recommended, "hvf");
    assert.ok(mac.seen.some((argv) => argv.includes("-bios") && argv.includes("virt")), "the aarch64 probe ran");
    const x86 = await caps.update(created.id, created.outs, { host: connection, guestArch: "x86_64" });
    assert.strictEqual(x86.outs.recommended, "tcg");
    assert.strictEqual((await caps.read(created.id, x86.outs)).props?.recommended, "tcg");
  });

  it("Disk: create, grow, a linked clone guards its base, delete", async () => {
    const base = await disk.create({ host: connection, name: "base", size: "64M" });
    assert.strictEqual(base.outs.virtualSizeBytes, 64 * 2 ** 20);
    const grown = await disk.update(base.id, base.outs, { host: connection, name: "base", size: "128M" });
    assert.strictEqual(grown.outs.virtualSizeBytes, 128 * 2 ** 20);
    const clone = await disk.create({ host: connection, name: "clone", backingImage: base.outs.path });
    assert.strictEqual(clone.outs.backingFile, base.outs.path);
    await assert.rejects(disk.remove(base.id, grown.outs), /backing file of/);
    await disk.remove(clone.id, clone.outs);
    await disk.remove(base.id, grown.outs);
    assert.strictEqual((await disk.read(base.id, grown.outs)).props, undefined);
  });

  it("Vm: started and recognized without /proc (ps start time, then ps command line), restarted on update, deleted", async () => {
    const image = path.join(workDir, "halt.img");
    writeFileSync(image, haltBootSector());
    const inputs = haltingVm(connection, "mac-vm", image);
    const created = await vm.create(inputs);
    assert.strictEqual(created.outs.status, "running", created.outs.statusDetail);
    const layout = vmLayoutAt(created.outs.stateDir);
    const identity = (await mac.readFile(layout.identity)).toString().trim();
    assert.match(identity, new RegExp(`^${created.outs.pid} \\w{3} \\w{3} +\\d+ \\d\\d:\\d\\d:\\d\\d \\d{4}$`), "PID and ps's lstart");
    assert.ok(mac.seen.some((argv) => argv[2]?.includes(NO_PROC)), "the scripts ran without /proc");

    const read = await vm.read(created.id, created.outs);
    assert.strictEqual(read.props?.status, "running");
    writeFileSync(layout.identity, `${created.outs.pid} Thu Jan  1 00:00:00 1970\n`);
    const byCommandLine = await vm.read(created.id, created.outs);
    assert.strictEqual(byCommandLine.props?.status, "running", "recognized by ps's command column");

    const updated = await vm.update(created.id, read.props!, { ...inputs, memory: "48M" });
    assert.strictEqual(updated.outs.status, "running", updated.outs.statusDetail);
    assert.notStrictEqual(updated.outs.pid, created.outs.pid);
    assert.strictEqual(isAlive(created.outs.pid!), false, "the old QEMU was stopped");

    await vm.remove(created.id, updated.outs);
    assert.strictEqual(isAlive(updated.outs.pid!), false);
    assert.strictEqual((await vm.read(created.id, updated.outs)).props?.status, "stopped");
  });

  it("without /proc, the identity file (PID and ps's start time) alone tells the instance from a look-alike", async () => {
    // A process at the pidfile's PID whose command line names neither the VM nor its pidfile.
    const layout = vmLayout(workDir, "lookalike.0a0b0c0d");
    mkdirSync(layout.dir, { recursive: true });
    const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    try {
      writeFileSync(layout.pidfile, `${child.pid}\n`);
      const lstart = spawnSync("ps", ["-p", String(child.pid), "-o", "lstart="], { env: { ...process.env, LC_ALL: "C" } }).stdout.toString().trim().split(/\s+/).join(" ");
      const ours = async () => /^ours=1$/m.test((await mac.exec(observeArgv([{ layout, name: "lookalike" }]))).stdout);
      writeFileSync(layout.identity, `${child.pid} ${lstart}\n`);
      assert.strictEqual(await ours(), true, "the recorded PID and start time did not make it the VM's");
      writeFileSync(layout.identity, `${child.pid} Thu Jan 1 00:00:00 1970\n`);
      assert.strictEqual(await ours(), false, "another start time (a reused PID) still made it the VM's");
    } finally {
      child.kill("SIGKILL");
    }
  });

  // Issue 18, class 9: the directory lock (no flock on macOS) left by a killed holder is broken.
  it("Vm: without flock the lock is a directory holding its PID; one a killed holder left is broken, a live holder's is not", async () => {
    const image = path.join(workDir, "halt.img");
    // Made stopped, so that its state directory is known before the start that takes the lock.
    const stopped = await vm.create({ ...haltingVm(connection, "stale-lock", image), state: "stopped" });
    const layout = vmLayoutAt(stopped.outs.stateDir);
    mkdirSync(`${layout.lock}.d`, { recursive: true });
    const dead = spawnSync("true").pid; // a PID that ran and ended
    writeFileSync(`${layout.lock}.d/pid`, `${dead}\n`);
    const created = await vm.update(stopped.id, stopped.outs, haltingVm(connection, "stale-lock", image));
    assert.strictEqual(created.outs.status, "running", created.outs.statusDetail);
    assert.ok(mac.seen.some((argv) => argv[2]?.includes("command -v flock-not-on-macos")), "the scripts ran without flock");
    assert.ok(!existsSync(`${layout.lock}.d`), "the lock stays after the script ended");

    await vm.remove(stopped.id, created.outs);

    // A live holder (this test process) keeps its lock: a start waits for it, and goes on once it is released.
    const waiting = await vm.create({ ...haltingVm(connection, "held-lock", image), state: "stopped" });
    const held = vmLayoutAt(waiting.outs.stateDir);
    mkdirSync(`${held.lock}.d`, { recursive: true });
    writeFileSync(`${held.lock}.d/pid`, `${process.pid}\n`);
    let done = false;
    const creating = vm.update(waiting.id, waiting.outs, haltingVm(connection, "held-lock", image)).finally(() => (done = true));
    await new Promise((r) => setTimeout(r, 1500));
    // The lock still names its holder: a start that broke it would have put its own PID there.
    const holder = existsSync(`${held.lock}.d/pid`) ? readFileSync(`${held.lock}.d/pid`, "utf8").trim() : "(the lock is gone)";
    assert.strictEqual(holder, String(process.pid), "the lock of a live holder was broken");
    assert.strictEqual(done, false, "the start went on under a live holder's lock");
    assert.ok(!existsSync(held.pidfile), "a QEMU started under another's lock"); // (ps would also list the waiting script's argv)
    rmSync(`${held.lock}.d`, { recursive: true });
    const made = await creating;
    assert.strictEqual(made.outs.status, "running", made.outs.statusDetail);
    await vm.remove(waiting.id, made.outs);
  });

  // Issue 18, class 4: without image locks, the VMs' own records say a disk is in use.
  it("Disk: without image locks a running VM's disk is neither shrunk nor deleted; once the VM is gone it is", async () => {
    const image = path.join(workDir, "halt.img");
    const data = await disk.create({ host: connection, name: "held", size: "16M" });
    const inputs = haltingVm(connection, "holds-disk", image);
    inputs.disks = [...inputs.disks!, { path: data.outs.path, interface: "virtio" }];
    const running = await vm.create(inputs);
    assert.ok(mac.seen.some((argv) => argv.some((a) => a.startsWith(`file=${data.outs.path},`) && a.endsWith(",file.locking=off"))), "the disk was attached without a lock");
    await assert.rejects(disk.update(data.id, data.outs, { host: connection, name: "held", size: "8M", allowShrink: true }), (e: Error & { code?: string }) => e.code === "IN_USE" && /cannot shrink .*held\.[0-9a-f]{8}\.qcow2 while a running VM holds it \(VM holds-disk\)/.test(e.message));
    await assert.rejects(disk.remove(data.id, data.outs), /not deleting disk .*held\.[0-9a-f]{8}\.qcow2: VM holds-disk of this working directory declares it/);
    await vm.remove(running.id, running.outs);
    const grown = await disk.update(data.id, data.outs, { host: connection, name: "held", size: "32M" });
    assert.strictEqual(grown.outs.virtualSizeBytes, 32 * 2 ** 20);
    await disk.remove(data.id, grown.outs);
  });

  it("Vm adopt: a QEMU started by hand is found from ps alone, recorded by PID and lstart, and managed", async () => {
    const image = path.join(workDir, "halt.img");
    const hand = ["qemu-system-x86_64", "-name", "guest=hand-mac", "-machine", "pc", "-accel", "tcg", "-m", "32", "-nodefaults", "-display", "none",
      "-drive", `file=${image},format=raw,if=virtio,readonly=on`, "-qmp", `unix:${workDir}/hand.sock,server=on,wait=off`, "-daemonize", "-pidfile", `${workDir}/hand.pid`];
    assert.strictEqual((await mac.exec(hand)).exitCode, 0);
    const [pid] = vmQemuPids("hand-mac");
    await assert.rejects(vm.create({ ...haltingVm(connection, "hand-mac", image), memory: "64M", adopt: true }), /memory: the running instance \(PID \d+\) has 32 MiB/);
    const made = await vm.create({ ...haltingVm(connection, "hand-mac", image), adopt: true });
    assert.strictEqual(made.outs.pid, pid, "adopted, not restarted");
    assert.strictEqual(made.outs.status, "running", made.outs.statusDetail);
    assert.match((await mac.readFile(vmLayoutAt(made.outs.stateDir).identity)).toString(), new RegExp(`^${pid} \\w{3} `));
    await vm.remove(made.id, made.outs);
    assert.strictEqual(isAlive(pid), false, "delete stopped the adopted QEMU");
  });
});
