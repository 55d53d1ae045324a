/**
 * The QEMU guest agent on a real SSH test host: the tiny guest runs qemu-ga (Debian's, the
 * host's QEMU version) on the Vm's virtio-serial port. Readiness, outputs, GuestCommand and
 * GuestFile through the serialized providers, a snapshot between a freeze and a thaw, and the
 * stop ladder's agent rung for a guest that ignores ACPI.
 */
import * as assert from "assert";
import { createHash, randomBytes } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { stateDirName, vmLayoutAt } from "../../provider/layout";
import { vmHandle } from "../../provider/vm/handle";
import { stopVm } from "../../provider/vm/execute";
import { diskProvider } from "../../sdk/disk";
import { vmProvider } from "../../sdk/vm";
import { snapshotProvider } from "../../sdk/snapshot";
import { guestCommandProvider } from "../../sdk/guestCommand";
import { guestFileProvider } from "../../sdk/guestFile";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { liveQemuPids, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, GUEST_APPEND } from "../testbed/testbed";

const READY = "PULUMI-QEMU-GUEST-READY";

describe("guest agent: readiness, outputs, GuestCommand, GuestFile, frozen snapshots, the agent's stop rung (real QEMU, SSH host)", function () {
  this.timeout(300000);
  const bed = testbed();
  const [h1] = bed.hosts;
  const run = randomBytes(3).toString("hex");
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir: `${h1.workDir}/ga-${run}` };
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const P: Record<string, pulumi.dynamic.ResourceProvider> = {};
  let vmOuts: any;
  let target: { host: Connection; stateDir: string; vm: string };
  const inGuest = async (create: string) => (await P.cmd.create!({ ...target, create })).outs.stdout as string;

  before(async () => {
    for (const [k, p] of Object.entries({ vm: vmProvider, disk: diskProvider, snap: snapshotProvider, cmd: guestCommandProvider, file: guestFileProvider })) {
      P[k] = (await roundTripProvider(p)).provider;
    }
    const disk = await P.disk.create!({ host: conn, name: "ga-disk", size: "16M" });
    // No network at all: no way into the guest but the agent.
    vmOuts = (await P.vm.create!({
      host: conn, name: "ga", memory: "256M", accelerator: "tcg", disks: [disk.outs.path],
      kernel: `${h1.guestDir}/vmlinuz`, initrd: `${h1.guestDir}/initramfs.gz`, append: GUEST_APPEND,
      networks: [], guestAgent: true,
      readiness: { serialPattern: READY, guestAgent: true, timeoutMs: 90000 },
      stopTimeouts: { powerdownMs: 1500, quitMs: 3000 },
    })).outs;
    target = { host: conn, stateDir: vmOuts.stateDir, vm: stateDirName(vmOuts.stateDir) };
  });
  after(async () => {
    for (const pid of liveQemuPids(`/ga-${run}/`)) await onHost().exec(["kill", "-KILL", String(pid)]).catch(() => undefined);
    await onHost().exec(["rm", "-rf", "--", conn.workDir]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("with no network: is ready when the agent answers; outputs the guest's OS and interfaces as the agent reports them; the channel is the SSH user's only", async () => {
    assert.strictEqual(vmOuts.status, "running");
    assert.strictEqual(vmOuts.guestOs, "pulumi-qemu test guest (busybox)");
    // No NIC: the agent reports only the loopback, which is left out (the e2e reads private addresses).
    assert.deepStrictEqual(vmOuts.guestInterfaces, []);
    const modes = (await onHost().exec(["stat", "-c", "%a %F", vmOuts.stateDir, `${vmOuts.stateDir}/qga.sock`])).stdout.trim().split("\n");
    assert.strictEqual(modes[0], "700 directory");
    assert.match(modes[1], /^[0-7]00 socket$/, "the agent socket is open to others");
    // A refresh asks again.
    const read = await P.vm.read!("id", vmOuts);
    assert.strictEqual(read.props!.guestOs, "pulumi-qemu test guest (busybox)");
  });

  it("GuestCommand: argv and shell, environment and stdin, no rerun on refresh; a failure names the VM, the code and stderr's tail with secrets masked; a timeout kills it", async () => {
    const made = await P.cmd.create!({ ...target, create: "cat; echo \" $TOKEN\"; echo once >> /run/runs", environment: { TOKEN: "s3cr3t-token" }, stdin: "from-stdin" });
    assert.strictEqual(made.outs.stdout, "from-stdin s3cr3t-token\n");
    assert.strictEqual(made.outs.exitCode, 0);
    const argv = await P.cmd.create!({ ...target, create: ["/bin/echo", "two words", "$HOME"] });
    assert.strictEqual(argv.outs.stdout, "two words $HOME\n");
    await P.cmd.read!(made.id, made.outs);
    assert.strictEqual(await inGuest("wc -l < /run/runs"), "1\n", "a refresh ran the command again");

    await assert.rejects(P.cmd.create!({ ...target, create: "echo \"cannot use $TOKEN\" >&2; exit 7", environment: { TOKEN: "s3cr3t-token" } }), (e: Error) => {
      assert.match(e.message, new RegExp(`VM ${target.vm}: the create command exited with code 7; stderr ends with:\\ncannot use \\[secret\\]`));
      assert.doesNotMatch(e.message, /s3cr3t-token/);
      return true;
    });
    const t0 = Date.now();
    await assert.rejects(P.cmd.create!({ ...target, create: ["sleep", "37"], timeout: "2s" }), /the create command did not finish within 2000 ms and was killed/);
    assert.ok(Date.now() - t0 < 15000, `${Date.now() - t0} ms`);
    assert.strictEqual(await inGuest("ps | grep -c '[s]leep 37' || true"), "0\n", "the timed-out command still runs in the guest");

    // update runs `update` in place; delete runs `delete`.
    const updated = await P.cmd.update!(made.id, made.outs, { ...target, create: "echo changed", update: "echo updated" });
    assert.strictEqual(updated.outs.stdout, "updated\n");
    await P.cmd.delete!(made.id, { ...updated.outs, delete: "echo gone > /run/deleted" });
    assert.strictEqual(await inGuest("cat /run/deleted"), "gone\n");
  });

  it("GuestFile: mode and owner, atomic put, refuses a file already there, a change in the guest found by refresh and put back, destroy leaves a changed file", async () => {
    const file = { ...target, path: "/etc/pq.conf", content: "a=1\n", mode: "0600", owner: "root:root" };
    const made = await P.file.create!(file);
    assert.strictEqual(await inGuest("stat -c '%a %U' /etc/pq.conf; cat /etc/pq.conf; ls /etc | grep -c pq- || true"), "600 root\na=1\n0\n");
    await assert.rejects(P.file.create!({ ...target, path: "/etc/passwd", content: "x" }), (e: Error & { code?: string }) =>
      e.code === "ALREADY_EXISTS" && /\/etc\/passwd already exists in the guest with other content/.test(e.message));
    assert.match(await inGuest("head -c 5 /etc/passwd"), /^root:/);

    const next = { ...file, content: "a=2\n" };
    assert.strictEqual((await P.file.diff!(made.id, made.outs, next)).changes, true);
    const updated = await P.file.update!(made.id, made.outs, next);
    assert.strictEqual(await inGuest("cat /etc/pq.conf"), "a=2\n");

    await inGuest("echo tampered >> /etc/pq.conf");
    const seen = await P.file.read!(made.id, updated.outs);
    assert.notStrictEqual(seen.props!.sha256, updated.outs.sha256);
    assert.strictEqual((await P.file.diff!(made.id, seen.props!, next)).changes, true, "a file changed in the guest is not a change");
    const back = await P.file.update!(made.id, seen.props!, next);
    assert.strictEqual(await inGuest("cat /etc/pq.conf"), "a=2\n");

    await inGuest("echo mine >> /etc/pq.conf");
    await P.file.delete!(made.id, back.outs);
    assert.strictEqual(await inGuest("tail -n 1 /etc/pq.conf"), "mine\n", "a file changed in the guest was removed");
    const again = await P.file.update!(made.id, { ...back.outs, sha256: (await P.file.read!(made.id, back.outs)).props!.sha256 }, next);
    await P.file.delete!(made.id, again.outs);
    assert.strictEqual(await inGuest("test -e /etc/pq.conf && echo there || echo gone"), "gone\n");
  });

  it("GuestFile from a local source: its digest read at check, a changed local file is a change and goes in", async () => {
    const local = path.join(mkdtempSync(path.join(tmpdir(), "pq-ga-")), "app.conf");
    writeFileSync(local, "port=1\n");
    const given = { ...target, path: "/etc/app.conf", source: local };
    const checked = (await P.file.check!({}, given)).inputs!;
    assert.strictEqual(checked.sourceSha256, createHash("sha256").update("port=1\n").digest("hex"));
    const made = await P.file.create!(checked);
    assert.strictEqual(await inGuest("cat /etc/app.conf"), "port=1\n");
    writeFileSync(local, "port=2\n");
    const rechecked = (await P.file.check!(checked, given)).inputs!;
    assert.strictEqual((await P.file.diff!(made.id, made.outs, rechecked)).changes, true, "a changed source file is not a change");
    await P.file.update!(made.id, made.outs, rechecked);
    assert.strictEqual(await inGuest("cat /etc/app.conf"), "port=2\n");
    rmSync(path.dirname(local), { recursive: true, force: true });
  });

  it("readiness.cloudInit through the agent, with no word of cloud-init on the console: ready on its result; its errors fail the create, quoted", async () => {
    const tiny = (name: string, script: string) => ({
      host: conn, name, memory: "160M", accelerator: "tcg", networks: [], guestAgent: true,
      kernel: `${h1.guestDir}/vmlinuz`, initrd: `${h1.guestDir}/initramfs.gz`, append: GUEST_APPEND,
      cloudInit: { userData: `#!/bin/sh\n${script}\n` }, readiness: { cloudInit: true, timeoutMs: 60000 }, stopTimeouts: { powerdownMs: 0 },
    });
    const good = await P.vm.create!(tiny("ci-good", "echo ok > /run/ok"));
    assert.strictEqual(good.outs.status, "running");
    await P.vm.delete!(good.id, good.outs);
    await assert.rejects(P.vm.create!(tiny("ci-bad", "exit 4")), (e: Error & { code?: string }) =>
      e.code === "CLOUD_INIT_FAILED" && /cloud-init finished with errors \(\/run\/cloud-init\/result.json, read through the guest agent\):\n\('scripts-user', 'the user-data script exited with 4'\)/.test(e.message));
    assert.deepStrictEqual(vmQemuPids("ci-bad"), [], "the failed VM's QEMU is left");
  });

  it("a disk snapshot of the running VM is taken between a freeze and a thaw of the guest's file systems", async () => {
    await P.snap.create!({ host: conn, vm: target.vm, name: "frozen" });
    assert.strictEqual(await inGuest("cat /run/fsfreeze.log"), "freeze\nthaw\n");
  });

  it("a guest that ignores ACPI stops through the agent's rung before QMP quit", async () => {
    const handle = vmHandle(onHost(), vmLayoutAt(vmOuts.stateDir));
    const used = await stopVm(handle, { powerdownMs: 1500, quitMs: 3000 });
    assert.deepStrictEqual(used, ["system_powerdown", "guest-shutdown"]);
    assert.deepStrictEqual(vmQemuPids(target.vm), []);
  });
});
