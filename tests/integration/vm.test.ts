/**
 * Disk and Vm providers through the engine's serialize -> load path, on the real testbed hosts
 * with real QEMU (TCG) and the tiny guest: every "done when" of the reconcile issue.
 */
import * as assert from "assert";
import { cloudInitSeed, type CloudInitInputs } from "../../provider/cloudInit/seed";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { vmLayout, vmLayoutAt } from "../../provider/layout";
import { diskProvider } from "../../sdk/disk";
import { vmProvider } from "../../sdk/vm";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { liveQemuPids, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, GUEST_APPEND } from "../testbed/testbed";
import { firstForwardPort } from "../helpers/ports";
import { guestExec } from "../helpers/guest";

const READY = "PULUMI-QEMU-GUEST-READY";

/** QEMU processes (not zombies) whose command line names this VM. */
const qemuProcesses = (name: string) => vmQemuPids(name);

describe("Disk and Vm (serialized providers, real QEMU on SSH hosts)", function () {
  this.timeout(300000);
  const bed = testbed();
  const [h1, h2] = bed.hosts;
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const run = randomBytes(3).toString("hex");
  const conn = (h = h1): Connection => ({ kind: "ssh", ...sshOptionsFor(h), workDir: `${h.workDir}/it-${run}` });
  const onHost = (h = h1) => sshTransport(sshOptionsFor(h));
  let vmP: pulumi.dynamic.ResourceProvider;
  let diskP: pulumi.dynamic.ResourceProvider;
  let port = firstForwardPort();
  const guestVm = (name: string, extra: Record<string, unknown> = {}) => ({
    host: conn(), name, memory: "256M", accelerator: "tcg",
    kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`, append: GUEST_APPEND,
    ports: [{ host: ++port, guest: 22 }], guestPrivateKey: guestKey,
    readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 90000 },
    stopTimeouts: { powerdownMs: 1000, quitMs: 3000 }, ...extra,
  });
  const guestSays = async (g: { host: string; port: number }, command: string[]) => (await guestExec(g, guestKey, command)).stdout.trim();

  before(async () => {
    vmP = (await roundTripProvider(vmProvider)).provider;
    diskP = (await roundTripProvider(diskProvider)).provider;
  });
  after(async () => {
    // Only what this suite started: QEMU processes under its own working directories.
    for (const pid of liveQemuPids(`/it-${run}/`)) await onHost(h1).exec(["kill", "-KILL", String(pid)]).catch(() => undefined);
    for (const h of [h1, h2]) await onHost(h).exec(["rm", "-rf", "--", `${h.workDir}/it-${run}`]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("serialized Disk and Vm providers stay small and hold no module or key", async () => {
    for (const p of [vmProvider, diskProvider]) {
      const { text } = await roundTripProvider(p);
      assert.ok(text.length < 4096, `${text.length} bytes`);
      assert.doesNotMatch(text, /ssh2|PRIVATE KEY/);
    }
  });

  it("linked clone, VM boots, guest SSH answers; kill -9 -> read says stopped -> update restarts; disks guarded; delete cleans", async () => {
    const base = await diskP.create!({ host: conn(), name: "base", size: "64M" });
    const clone = await diskP.create!({ host: conn(), name: "clone", backingImage: base.outs.path });
    assert.strictEqual(clone.outs.backingFile, base.outs.path);
    assert.strictEqual(clone.outs.virtualSizeBytes, 64 * 2 ** 20);

    const inputs = guestVm("web", { disks: [clone.outs.path] });
    const created = await vmP.create!(inputs);
    const outs = created.outs;
    assert.strictEqual(outs.status, "running");
    assert.strictEqual(outs.acceleratorInUse, "tcg");
    assert.deepStrictEqual(qemuProcesses("web").length, 1);
    assert.strictEqual(outs.guestConnection.host, h1.address);
    assert.strictEqual(await guestSays(outs.guestConnection, ["echo", "hello from the guest"]), "hello from the guest");

    // Disk guards while the VM runs.
    await assert.rejects(diskP.delete!(clone.id, clone.outs), /a running VM uses it \(VM web\)/);
    await assert.rejects(diskP.delete!(base.id, base.outs), new RegExp(`backing file of ${clone.outs.path}`));
    // A VM that would write the base under its clone is refused before it starts.
    await assert.rejects(vmP.create!(guestVm("writer", { disks: [base.outs.path] })), (e: Error & { property?: string }) =>
      e.property === "disks[0]" && new RegExp(`is the backing file of ${clone.outs.path}: VM writer would write it under them`).test(e.message));
    assert.deepStrictEqual(qemuProcesses("writer"), [], "the refused VM started");
    await assert.rejects(diskP.update!(clone.id, clone.outs, { host: conn(), name: "clone", backingImage: base.outs.path, size: "32M" }), /would shrink/);

    // The process dies behind our back (SIGKILL is delivered at once, but a busy QEMU takes a moment to be gone).
    await onHost().exec(["kill", "-9", String(outs.pid)]);
    while ((await onHost().exec(["kill", "-0", String(outs.pid)])).exitCode === 0) await new Promise((r) => setTimeout(r, 20));
    const seen = await vmP.read!(created.id, outs);
    assert.strictEqual(seen.props!.status, "stopped", seen.props!.statusDetail);
    assert.strictEqual((await vmP.diff!(created.id, seen.props!, inputs)).changes, true);
    const repaired = await vmP.update!(created.id, seen.props!, inputs);
    assert.strictEqual(repaired.outs.status, "running");
    assert.notStrictEqual(repaired.outs.pid, outs.pid);
    assert.strictEqual(await guestSays(repaired.outs.guestConnection, ["echo", "back"]), "back");

    // Memory: update (restart), never replace; host: replace.
    const more = { ...inputs, memory: "320M" };
    assert.deepStrictEqual((await vmP.diff!(created.id, repaired.outs, more)).replaces, []);
    assert.deepStrictEqual((await vmP.diff!(created.id, repaired.outs, { ...inputs, host: conn(h2) })).replaces, ["host"]);
    const restarted = await vmP.update!(created.id, repaired.outs, more);
    assert.notStrictEqual(restarted.outs.pid, repaired.outs.pid);
    assert.strictEqual(restarted.outs.spec.memoryBytes, 320 * 2 ** 20);

    // Delete: this guest ignores ACPI powerdown, so the ladder goes on to quit, within its bounds.
    const t0 = Date.now();
    await vmP.delete!(created.id, restarted.outs);
    assert.ok(Date.now() - t0 < 1000 + 3000 + 5000, `delete took ${Date.now() - t0} ms`);
    assert.deepStrictEqual(qemuProcesses("web"), []);
    assert.strictEqual((await onHost().exec(["test", "-e", restarted.outs.stateDir])).exitCode, 1, "state directory left");

    // Now the disks can go, overlay first; the base reports its overlay until then.
    await diskP.delete!(clone.id, clone.outs);
    await diskP.delete!(base.id, base.outs);
    assert.strictEqual((await onHost().exec(["test", "-e", base.outs.path])).exitCode, 1);
  });

  it("a missing base image is reported; a grow resizes in place", async () => {
    const base = await diskP.create!({ host: conn(), name: "base2", size: "16M" });
    const clone = await diskP.create!({ host: conn(), name: "clone2", backingImage: base.outs.path });
    const grown = await diskP.update!(clone.id, clone.outs, { host: conn(), name: "clone2", backingImage: base.outs.path, size: "32M" });
    assert.strictEqual(grown.outs.virtualSizeBytes, 32 * 2 ** 20);
    await onHost().exec(["mv", base.outs.path, `${base.outs.path}.moved`]);
    const read = await diskP.read!(clone.id, grown.outs);
    assert.strictEqual(read.props!.backingMissing, true);
    await assert.rejects(diskP.create!({ host: conn(), name: "clone3", backingImage: base.outs.path }), /backingImage: .* does not exist/);
  });

  it("a pidfile naming an unrelated live process: reported stopped, that process untouched, start still works", async () => {
    const inputs = guestVm("stale");
    const layout = vmLayout(conn().workDir!, "stale");
    // A process of the host (not of this machine: the host has processes of its own).
    const bystander = { pid: Number((await onHost().exec(["sh", "-c", "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!"])).stdout.trim()) };
    const bystanderAlive = async () => (await onHost().exec(["kill", "-0", String(bystander.pid)])).exitCode === 0;
    try {
      await onHost().exec(["mkdir", "-p", layout.dir]);
      await onHost().writeFile(layout.pidfile, `${bystander.pid}\n`);
      await onHost().exec(["sh", "-c", `python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$1" || touch "$1"`, "x", layout.qmpSocket]);
      const seen = await vmP.read!("id", { ...inputs, spec: {}, acceleratorsStarted: ["tcg"] });
      assert.strictEqual(seen.props!.status, "stopped");
      assert.match(seen.props!.statusDetail, new RegExp(`PID ${bystander.pid}, which is not this VM's QEMU`));
      await vmP.delete!("id", seen.props!);
      assert.ok(await bystanderAlive(), "the unrelated process was killed");

      // A crash leftover: stale socket and pidfile, then a start (made stopped, so that its state directory is known first).
      const stopped = await vmP.create!({ ...inputs, state: "stopped" });
      const left = vmLayoutAt(stopped.outs.stateDir);
      await onHost().exec(["mkdir", "-p", left.dir]);
      await onHost().writeFile(left.pidfile, `${bystander.pid}\n`);
      await onHost().exec(["touch", left.qmpSocket]);
      const created = { id: stopped.id, ...(await vmP.update!(stopped.id, stopped.outs, inputs)) };
      assert.strictEqual(created.outs.status, "running");
      assert.ok(await bystanderAlive(), "the unrelated process was killed");
      await vmP.delete!(created.id, created.outs);
    } finally {
      await onHost().exec(["kill", "-KILL", String(bystander.pid)]);
    }
  });

  // Issue 18, class 8: two resources with one name on one host do not silently co-own one VM.
  it("two concurrent creates of one name (two stacks) start two QEMUs, each in its own state directory; adopt takes neither", async () => {
    const results = await Promise.all([vmP.create!(guestVm("twin", { readiness: undefined })),
      (async () => (await roundTripProvider(vmProvider)).provider.create!(guestVm("twin", { readiness: undefined })))()]);
    const [one, two] = results.map((r) => r.outs as { pid: number; stateDir: string });
    assert.notStrictEqual(one.stateDir, two.stateDir);
    assert.deepStrictEqual(qemuProcesses("twin").sort(), [one.pid, two.pid].sort(), "two QEMUs, the ones the creates report");
    await assert.rejects(vmP.create!({ ...guestVm("twin", { readiness: undefined }), adopt: true }), /adopt: no running QEMU instance has -name twin/);
    for (const r of results) await vmP.delete!(r.id, r.outs);
    assert.deepStrictEqual(qemuProcesses("twin"), []);
  });

  it("a second VM asking for a taken host port fails, naming the port and the other VM; a different spec is not adopted", async () => {
    const first = await vmP.create!(guestVm("porta", { readiness: undefined }));
    const taken = first.outs.forwardedPorts[0].host;
    await assert.rejects(vmP.create!(guestVm("portb", { readiness: undefined, ports: [{ host: taken, guest: 22 }] })),
      new RegExp(`QEMU did not start VM portb: .*host port ${taken}/tcp is forwarded by VM porta`, "s"));
    assert.deepStrictEqual(qemuProcesses("portb"), []);
    // The same name again (another stack's): its own VM, refused for the port, not adopted.
    await assert.rejects(vmP.create!({ ...guestVm("porta", { readiness: undefined }), ports: first.outs.forwardedPorts, memory: "300M" }),
      new RegExp(`QEMU did not start VM porta: .*host port ${taken}/tcp is forwarded by VM porta \\(${first.outs.stateDir}\\)`, "s"));
    assert.deepStrictEqual(qemuProcesses("porta"), [first.outs.pid]);
    await vmP.delete!(first.id, first.outs);
  });

  it("cloud-init seed: the guest kernel mounts it, takes the hostname, runs the user-data; a changed seed restarts with a new instance", async () => {
    const seedInputs = (marker: string) => guestVm("seeded", {
      cloudInit: { userData: `#!/bin/sh\necho ${marker} > /root/user-data-ran\n`, metaData: { "local-hostname": "seeded-guest" } },
    });
    const first = await vmP.create!(seedInputs("first"));
    const g = first.outs.guestConnection;
    assert.strictEqual(await guestSays(g, ["hostname"]), "seeded-guest");
    assert.strictEqual(await guestSays(g, ["cat", "/root/user-data-ran"]), "first");
    const instance = await guestSays(g, ["sed", "-n", "s/^instance-id: //p", "/run/cidata/meta-data"]);
    assert.match(instance, /^seeded-[0-9a-f]{12}$/);
    // Keyed by the VM's secret seed key: not the plain hash of the seed, which would confirm a guessed secret in it.
    assert.notStrictEqual(instance, cloudInitSeed((seedInputs("first") as { cloudInit?: unknown }).cloudInit as CloudInitInputs, "seeded").seed!.instanceId);
    const seeds = async () => (await onHost().exec(["sh", "-c", 'cd "$1" && for f in cidata-*.iso; do stat -c "%n %a" "$f"; done', "x", first.outs.stateDir])).stdout.trim().split("\n");
    const [seedFile] = await seeds();
    assert.match(seedFile, /^cidata-[0-9a-f]{16}\.iso 600$/, "one seed, readable by its owner only");
    // The seed holds no secret in the spec kept on the host: only its hash.
    const specText = (await onHost().exec(["cat", vmLayoutAt(first.outs.stateDir).startedSpec])).stdout;
    assert.doesNotMatch(specText, /user-data-ran/);

    const next = seedInputs("second");
    assert.strictEqual((await vmP.diff!(first.id, first.outs, next)).changes, true);
    assert.deepStrictEqual((await vmP.diff!(first.id, first.outs, next)).replaces, []);
    const updated = await vmP.update!(first.id, first.outs, next);
    assert.notStrictEqual(updated.outs.pid, first.outs.pid, "a changed seed restarts the VM");
    assert.strictEqual(await guestSays(updated.outs.guestConnection, ["cat", "/root/user-data-ran"]), "second");
    assert.notStrictEqual(await guestSays(updated.outs.guestConnection, ["sed", "-n", "s/^instance-id: //p", "/run/cidata/meta-data"]), instance);
    const after = await seeds();
    assert.strictEqual(after.length, 1, `old seeds pruned: ${after}`);
    assert.notStrictEqual(after[0], seedFile);
    await vmP.delete!(first.id, updated.outs);
  });

  it("Disk source: uploaded to the SSH host under a temp name, checksum verified, then usable as a base", async () => {
    const local = `/tmp/pulumi-qemu-upload-${run}.qcow2`;
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", local, "24M"]);
    try {
      const up = await diskP.create!({ host: conn(), name: "uploaded", source: local });
      assert.strictEqual(up.outs.format, "qcow2");
      assert.strictEqual(up.outs.virtualSizeBytes, 24 * 2 ** 20);
      const sum = (await onHost().exec(["sha256sum", up.outs.path])).stdout.split(" ")[0];
      assert.strictEqual(sum, execFileSync("sha256sum", [local]).toString().split(" ")[0]);
      const dir = up.outs.path.slice(0, up.outs.path.lastIndexOf("/"));
      assert.deepStrictEqual((await onHost().exec(["sh", "-c", 'ls -a "$1" | grep upload- ; exit 0', "x", dir])).stdout, "", "temp file left");
      // A second upload to the same path is refused, naming its owner: nothing is overwritten.
      await assert.rejects(diskP.create!({ host: conn(), name: "uploaded", source: local, path: up.outs.path }), /already exists and belongs to an owner with no name recorded; it is not overwritten/);
      const clone = await diskP.create!({ host: conn(), name: "from-upload", backingImage: up.outs.path, size: "32M" });
      assert.strictEqual(clone.outs.backingFile, up.outs.path);
      await diskP.delete!(clone.id, clone.outs);
      await diskP.delete!(up.id, up.outs);
    } finally {
      execFileSync("rm", ["-f", local]);
    }
  });

  it("shared Disk: a second stack adopts the same bytes at the same path; delete keeps it while a clone uses it", async () => {
    const local = `/tmp/pulumi-qemu-shared-${run}.qcow2`;
    const other = `/tmp/pulumi-qemu-other-${run}.qcow2`;
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", local, "16M"]);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", other, "20M"]);
    try {
      const path = `${conn().workDir}/images/base.qcow2`;
      const shared = { host: conn(), name: "base", path, source: local, shared: true };
      const first = await diskP.create!(shared);
      const uploadedAt = (await onHost().exec(["stat", "-c", "%Y %i", path])).stdout;
      const second = await diskP.create!(shared);
      assert.strictEqual(second.id, first.id);
      assert.strictEqual((await onHost().exec(["stat", "-c", "%Y %i", path])).stdout, uploadedAt, "adopting must not upload again");
      await assert.rejects(diskP.create!({ ...shared, source: other }), /already exists; it is not overwritten/);
      const clone = await diskP.create!({ host: conn(), name: "on-shared", backingImage: path });
      await diskP.delete!(second.id, second.outs);
      assert.strictEqual((await onHost().exec(["test", "-e", path])).exitCode, 0, "a shared image in use was deleted");
      await diskP.delete!(clone.id, clone.outs);
      await diskP.delete!(first.id, first.outs);
      assert.strictEqual((await onHost().exec(["test", "-e", path])).exitCode, 1, "the last user's delete removes it");
      const checked = await diskP.check!({}, { host: conn(), name: "x", source: local, shared: true });
      assert.match(JSON.stringify(checked.failures), /"property":"shared".*explicit path/);
    } finally {
      execFileSync("rm", ["-f", local, other]);
    }
  });

  it("tap network: the host reaches the guest's sshd through a tap device on the host", async () => {
    // In h2's network namespace the tap plays the gateway the guest's init configures (10.0.2.2).
    const tap = `pqtap${run}`;
    const h = onHost(h2);
    const made = await h.exec(["sh", "-c", 'ip tuntap add dev "$1" mode tap && ip addr add 10.0.2.2/24 dev "$1" && ip link set "$1" up', "x", tap]);
    assert.strictEqual(made.exitCode, 0, made.stderr);
    try {
      const created = await vmP.create!({ ...guestVm("tapped", { host: conn(h2), ports: undefined, readiness: { serialPattern: READY, timeoutMs: 90000 } }), networks: [{ type: "tap", ifname: tap }] });
      assert.strictEqual(created.outs.status, "running");
      const banner = await new Promise<string>((resolve, reject) => {
        const deadline = Date.now() + 30000;
        const attempt = async () => {
          try {
            const s = await h.connectTcp("10.0.2.15", 22);
            s.once("data", (d: Buffer) => { s.destroy(); resolve(d.toString()); });
            s.once("error", () => (Date.now() < deadline ? setTimeout(attempt, 500) : reject(new Error("no banner"))));
          } catch (e) {
            if (Date.now() < deadline) setTimeout(attempt, 500); else reject(e);
          }
        };
        void attempt();
      });
      assert.match(banner, /^SSH-2\.0-dropbear/);
      await vmP.delete!(created.id, created.outs);
    } finally {
      await h.exec(["ip", "link", "del", tap]);
    }
  });

  it("a rejected input starts, writes and deletes nothing on the host", async () => {
    const workDir = conn().workDir!;
    const before = (await onHost().exec(["sh", "-c", `ls -R '${workDir}' 2>/dev/null; exit 0`])).stdout;
    for (const name of ["$(touch /tmp/pwned)", "../../etc", "-rf"]) {
      await assert.rejects(vmP.create!(guestVm(name)), /name: must be/);
      await assert.rejects(diskP.create!({ host: conn(), name, size: "1M" }), /name: must be/);
    }
    assert.strictEqual((await onHost().exec(["sh", "-c", `ls -R '${workDir}' 2>/dev/null; exit 0`])).stdout, before);
    assert.strictEqual((await onHost().exec(["test", "-e", "/tmp/pwned"])).exitCode, 1);
  });
});
