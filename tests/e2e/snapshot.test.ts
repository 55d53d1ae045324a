/**
 * A Snapshot with memory through the real CLI on an SSH test host: the guest writes, is
 * snapshotted, writes again; a changed revertTrigger previews as one update (no replace), and
 * the up brings the guest's file back, with the same QEMU, and says in the CLI output how long
 * the revert took (the 3 s target is `npm run bench`'s: speed goals are not timed tests);
 * destroy removes the snapshot before the VM and its disk, leaving nothing.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import { Disk, Fleet, Host, Snapshot, Vm } from "../../sdk";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { killProcess, liveQemuPids, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, GUEST_APPEND } from "../testbed/testbed";
import { capture, withStack } from "./harness";
import { firstForwardPort } from "../helpers/ports";
import { guestExec } from "../helpers/guest";

describe("e2e: Snapshot with memory, reverted by a trigger (real CLI, SSH host)", function () {
  this.timeout(10 * 60 * 1000);
  const bed = testbed();
  const h1 = bed.hosts[0];
  const run = randomBytes(3).toString("hex");
  const workDir = `${h1.workDir}/e2e-snap-${run}`;
  const fleetDirs = bed.hosts.slice(0, 2).map((h) => `${h.workDir}/e2e-snap-${run}`);
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const port = firstForwardPort();
  const onHost = () => sshTransport(sshOptionsFor(h1));
  after(async () => {
    for (const pid of liveQemuPids(`/e2e-snap-${run}/`)) killProcess(pid);
    for (const dir of new Set([workDir, ...fleetDirs])) await onHost().exec(["rm", "-rf", "--", dir]).catch(() => undefined);
    await closeAllSshTransports();
  });
  const inGuest = async (g: { host: string; port: number }, script: string) => (await guestExec(g, guestKey, ["sh", "-c", script])).stdout.trim();

  it("write, snapshot, write; the trigger's change is an update that brings the file back, its time in the output; destroy cleans", async () => {
    const settings = { snapshot: false, trigger: 1 };
    const program = async () => {
      const host = new Host("h1", { address: h1.address, port: h1.port, user: bed.rootUser, privateKey: readFileSync(bed.clientKey, "utf8"), hostKey: h1.hostKey, workDir });
      const disk = new Disk("data", { host: host.connection, size: "64M" });
      const vm = new Vm("snapped", {
        host: host.connection, memory: "256M", accelerator: "tcg", disks: [disk.path],
        kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: GUEST_APPEND,
        ports: [{ host: port, guest: 22 }], guestPrivateKey: guestKey,
        readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, timeoutMs: 90000 },
        stopTimeouts: { powerdownMs: 0, quitMs: 3000 },
      });
      if (settings.snapshot) new Snapshot("clean", { vm, memory: true, revertTrigger: settings.trigger });
      return { guest: vm.guestConnection, pid: vm.pid, disk: disk.path };
    };
    await withStack("snapshot", program, async (h) => {
      const up = await h.stack.up(capture(h));
      const g = up.outputs.guest.value;
      const pid = up.outputs.pid.value;
      await inGuest(g, "echo one > /tmp/f");

      settings.snapshot = true;
      const taken = await h.stack.up(capture(h));
      assert.deepStrictEqual(taken.summary.resourceChanges, { same: 4, create: 1 });
      await inGuest(g, "echo two > /tmp/f");
      assert.strictEqual(await inGuest(g, "cat /tmp/f"), "two");

      settings.trigger = 2;
      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual(preview.changeSummary, { same: 4, update: 1 }, "a revert is one update: nothing replaced or restarted");
      assert.match(h.output(), /pulumi-qemu: Snapshot clean: the update reverts VM snapped to it \(disks and memory/);
      const reverted = await h.stack.up(capture(h));
      assert.deepStrictEqual(reverted.summary.resourceChanges, { same: 4, update: 1 });
      const ms = Number(/VM snapped: reverted to snapshot clean in (\d+) ms/.exec(h.output())?.[1]);
      assert.ok(ms >= 0, "the CLI output does not say how long the revert took");
      assert.strictEqual(await inGuest(g, "cat /tmp/f"), "one", "the guest's file is back as it was at the snapshot");
      assert.deepStrictEqual(vmQemuPids("snapped"), [pid], "the VM was restarted");
      // The record of the machine the memory fits outlives the revert, and the backend keeps it
      // encrypted, as a secret (it quotes extraArgs). The state file, not exportStack (which decrypts).
      const state = JSON.parse(readFileSync(h.stateFile, "utf8")) as { checkpoint: { latest: { resources: Array<{ type: string; outputs?: Record<string, unknown> }> } } };
      const recorded = state.checkpoint.latest.resources.find((r) => r.type.endsWith("qemu:Snapshot"))?.outputs?.machineAtSnapshot as Record<string, unknown> | undefined;
      assert.ok(recorded && typeof recorded.ciphertext === "string" && !JSON.stringify(recorded).includes("MiB"), `machineAtSnapshot in state: ${JSON.stringify(recorded)}`);

      await h.stack.preview({ expectNoChanges: true, ...capture(h) });
      await h.stack.destroy(capture(h));
      assert.deepStrictEqual(liveQemuPids(`/e2e-snap-${run}/`), []);
      assert.strictEqual((await onHost().exec(["test", "-e", up.outputs.disk.value])).exitCode, 1, "destroy left the disk");
    });
  });

  it("a Fleet over two hosts with snapshot: every member is snapshotted; one trigger reverts them all in place", async () => {
    const settings = { trigger: "a" };
    const program = async () => {
      const hosts = Object.fromEntries(bed.hosts.slice(0, 2).map((h, i) => [h.name, new Host(h.name, {
        address: h.address, port: h.port, user: bed.rootUser, privateKey: readFileSync(bed.clientKey, "utf8"), hostKey: h.hostKey, workDir: fleetDirs[i] })]));
      const fleet = new Fleet("snapfleet", {
        hosts, count: 2, portRange: { from: port + 10, to: port + 19 },
        template: {
          baseImage: `${bed.guest.dir}/base.qcow2`, memory: "192M", accelerator: "tcg",
          kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: GUEST_APPEND,
          readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, timeoutMs: 120000 },
          stopTimeouts: { powerdownMs: 0 }, guestPrivateKey: guestKey,
        },
        snapshot: { name: "clean", memory: true, revertTrigger: settings.trigger },
      });
      return { members: fleet.members, pids: fleet.vms.map((vm) => vm.pid) };
    };
    await withStack("snapfleet", program, async (h) => {
      const up = await h.stack.up(capture(h));
      const members = up.outputs.members.value as Array<{ sshHost: string; sshPort: number; host: string }>;
      assert.deepStrictEqual(members.map((m) => m.host).sort(), bed.hosts.slice(0, 2).map((x) => x.name).sort(), "one member per host");
      for (const m of members) await inGuest({ host: m.sshHost, port: m.sshPort }, "echo dirty > /tmp/f");

      settings.trigger = "b";
      const preview = await h.stack.preview(capture(h));
      assert.strictEqual(preview.changeSummary.update, 2, JSON.stringify(preview.changeSummary));
      assert.strictEqual(preview.changeSummary.replace ?? 0, 0);
      await h.stack.up(capture(h));
      for (const m of members) assert.strictEqual(await inGuest({ host: m.sshHost, port: m.sshPort }, "cat /tmp/f 2>/dev/null || echo clean"), "clean");
      assert.deepStrictEqual(up.outputs.pids.value.map((pid: number) => liveQemuPids(`guest=snapfleet-`).includes(pid)), [true, true], "a member was restarted");
      await h.stack.destroy(capture(h));
      assert.deepStrictEqual(liveQemuPids(`/e2e-snap-${run}/`), []);
    });
  });
});
