/**
 * Wrong inputs to Network, Fleet and Snapshot through the real CLI on an SSH test host: each is
 * refused with an error naming the property (at preview where the inputs tell, at up where only
 * the host does), and nothing is started on the host.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";
import { Disk, Fleet, Host, Network, Snapshot, Vm } from "../../sdk";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { killProcess, liveQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { pulumiBinDir } from "./engine";
import { capture, withStack } from "./harness";

describe("e2e: wrong Network, Fleet and Snapshot inputs are refused naming the property (real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const bed = testbed();
  const h1 = bed.hosts[0];
  const run = randomBytes(3).toString("hex");
  const workDir = `${h1.workDir}/e2e-bad-${run}`;
  const onHost = () => sshTransport(sshOptionsFor(h1));
  after(async () => {
    for (const pid of liveQemuPids(`/e2e-bad-${run}/`)) killProcess(pid);
    await onHost().exec(["rm", "-rf", "--", workDir]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("address outside the subnet, two members on one address, a loopback link address, a snapshot of a diskless VM, a raw image, a revert to a missing snapshot", async () => {
    const step = { kind: "base", trigger: 1 };
    const program = async () => {
      const host = new Host("h1", { address: h1.address, port: h1.port, user: bed.rootUser, privateKey: readFileSync(bed.clientKey, "utf8"), hostKey: h1.hostKey, workDir });
      const lab = new Network("lab", { subnet: "10.55.0.0/24", hosts: [host] });
      const disk = new Disk("data", { host: host.connection, size: "16M" });
      new Snapshot("clean", { disk, revertTrigger: step.trigger });
      if (step.kind === "outside") {
        new Vm("v", { host: host.connection, memory: "64M", accelerator: "tcg", networks: [{ type: "user" }, lab.attach("10.56.0.1")] });
      }
      if (step.kind === "duplicate") {
        new Fleet("dup", { hosts: { h1: host }, count: 2, template: { baseImage: `${bed.guest.dir}/base.qcow2`, memory: "64M" },
          network: { subnet: "10.57.0.0/24", addresses: ["10.57.0.5", "10.57.0.5"] } });
      }
      // (An overlapping subnet is no mistake: each network is its own segment.)
      if (step.kind === "loopback") new Network("wide", { subnet: "10.55.0.0/16", hosts: [{ host, address: "127.0.0.1" }] });
      if (step.kind === "diskless") {
        const bare = new Vm("bare", { host: host.connection, memory: "64M", accelerator: "tcg" });
        new Snapshot("of-bare", { vm: bare, memory: true });
      }
      if (step.kind === "raw") {
        const raw = new Disk("raw", { host: host.connection, size: "1M", format: "raw" });
        new Snapshot("of-raw", { disk: raw });
      }
      return { disk: disk.path };
    };
    await withStack("bad-input", program, async (h) => {
      const up = await h.stack.up(capture(h));
      assert.deepStrictEqual(up.summary.resourceChanges, { create: 5 });
      // The key reaches the Network's and the Snapshot's state only as a secret.
      // (`pulumi stack export` as a user runs it: the Automation API's exportStack decrypts.)
      const exported = execFileSync(path.join(pulumiBinDir(), "pulumi"), ["stack", "export", "--stack", "e2e"],
        { cwd: h.dir, env: { ...process.env, ...h.stack.workspace.envVars } }).toString();
      assert.match(exported, /qemu:Network/);
      assert.match(exported, /qemu:Snapshot/);
      const keyLines = readFileSync(bed.clientKey, "utf8").split("\n").filter((l) => l && !l.startsWith("-----"));
      for (const line of keyLines) assert.ok(!exported.includes(line), "the SSH private key is in the exported stack in clear text");
      const switches = () => liveQemuPids(`/e2e-bad-${run}/networks/`).length;
      assert.strictEqual(switches(), 1);

      step.kind = "outside";
      await assert.rejects(h.stack.preview(capture(h)), /property networks\[1\]\.address .*has a problem: 10\.56\.0\.1 is not a host address of 10\.55\.0\.0\/24/);
      step.kind = "duplicate";
      await assert.rejects(h.stack.preview(capture(h)), /Fleet dup: network\.addresses\[1\]: 10\.57\.0\.5 is already member 0's/);
      step.kind = "loopback";
      await assert.rejects(h.stack.preview(capture(h)), /property hosts\[0\]\.address .*127\.0\.0\.1 is a loopback address: other hosts cannot reach this one there/);
      assert.strictEqual(switches(), 1, "the refused network left a switch");
      step.kind = "diskless";
      await assert.rejects(h.stack.preview(capture(h)), /Snapshot of-bare: vm: Vm bare declares no writable disk to hold a snapshot/);
      step.kind = "raw";
      await assert.rejects(h.stack.up(capture(h)), /disk: disk \S+raw\.[0-9a-f]{8}\.raw: \S+ is a raw image; internal snapshots need qcow2/);
      assert.deepStrictEqual(liveQemuPids(`/e2e-bad-${run}/vms/`), [], "a VM was started");

      // The snapshot goes behind Pulumi's back; a revert to it names what is missing.
      step.kind = "base";
      await onHost().exec(["qemu-img", "snapshot", "-d", "clean", up.outputs.disk.value]);
      step.trigger = 2;
      await assert.rejects(h.stack.up(capture(h)), /name: cannot revert disk \S+ to snapshot clean: \S+ has no such snapshot \(snapshots there: none\)/);

      await h.stack.destroy(capture(h));
      assert.deepStrictEqual(liveQemuPids(`/e2e-bad-${run}/`), []);
    });
  });
});
