/**
 * Adopting a QEMU instance started by hand (Vm `adopt`), through the serialized provider on an
 * SSH host: refused when it does not match the declaration, taken over without a restart when
 * it does, then refreshed and stopped like any other.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { findHandStarted, recordAdopted } from "../../provider/vm/adopt";
import { vmLayout } from "../../provider/layout";
import { vmSpec } from "../../provider/vm/spec";
import { vmProvider } from "../../sdk/vm";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { killProcess, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed } from "../testbed/testbed";

describe("Vm adopt (a QEMU started by hand, real QEMU on an SSH host)", function () {
  this.timeout(120000);
  const [h1] = testbed().hosts;
  const run = randomBytes(3).toString("hex");
  const workDir = `${h1.workDir}/adopt-${run}`;
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir };
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const name = `hand-${run}`;
  const image = `${workDir}/halt.img`;
  const handArgv = ["qemu-system-x86_64", "-name", `guest=${name}`, "-machine", "pc", "-accel", "tcg", "-m", "32", "-nodefaults", "-display", "none",
    "-drive", `file=${image},format=raw,if=virtio,readonly=on`, "-qmp", `unix:${workDir}/hand.sock,server=on,wait=off`,
    "-daemonize", "-pidfile", `${workDir}/hand.pid`];
  const handPids = () => vmQemuPids(name);
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

  it("with nothing to adopt, create fails naming adopt and starts nothing", async () => {
    await assert.rejects(vmP.create!({ ...haltingVm(conn, name, image), adopt: true }), /adopt: no running QEMU instance has -name hand-/);
    assert.deepStrictEqual(handPids(), []);
  });

  it("refuses a different memory size, naming memory; takes over a matching one without a restart; refresh and delete manage it", async () => {
    const started = await onHost().exec(handArgv);
    assert.strictEqual(started.exitCode, 0, started.stderr);
    const [hand] = handPids();
    assert.ok(hand, "the hand-started QEMU runs");

    await assert.rejects(vmP.create!({ ...haltingVm(conn, name, image), memory: "64M", adopt: true }),
      /memory: the running instance \(PID \d+\) has 32 MiB, the declaration 64 MiB/);
    assert.deepStrictEqual(handPids(), [hand], "a refused adopt started or stopped something");

    const made = await vmP.create!({ ...haltingVm(conn, name, image), adopt: true });
    assert.strictEqual(made.outs.pid, hand, "adopted, not restarted");
    assert.strictEqual(made.outs.status, "running", made.outs.statusDetail);
    assert.strictEqual(made.outs.acceleratorInUse, "tcg");
    assert.deepStrictEqual(handPids(), [hand]);

    const read = await vmP.read!(made.id, made.outs);
    assert.strictEqual(read.props!.status, "running", read.props!.statusDetail);
    assert.strictEqual(read.props!.pid, hand);

    await vmP.delete!(made.id, made.outs);
    assert.deepStrictEqual(handPids(), [], "delete left the adopted QEMU running");
    assert.strictEqual((await onHost().exec(["test", "-e", made.outs.stateDir])).exitCode, 1, "the state directory stays");
  });

  // Issue 18, class 9: adopt takes only an unmanaged QEMU of the same user, checked and recorded as one process.
  it("never adopts another user's QEMU, nor one another state directory manages; records only the process it checked", async () => {
    const bed = testbed();
    // Another Unix user's QEMU with this name, on the host (started there over SSH, as that user).
    const otherDir = `${workDir}-other-user`;
    await onHost().exec(["sh", "-c", 'mkdir -p "$1" && chmod 777 "$1"', "x", otherDir]);
    await onHost().writeFile(`${otherDir}/halt.img`, haltBootSector());
    await onHost().exec(["chmod", "644", `${otherDir}/halt.img`]);
    const asOther = ["setpriv", "--reuid", bed.plainUser, "--regid", bed.plainUser, "--clear-groups", "qemu-system-x86_64", "-name", `guest=${name}`,
      "-machine", "pc", "-accel", "tcg", "-m", "32", "-nodefaults", "-display", "none", "-drive", `file=${otherDir}/halt.img,format=raw,if=virtio,readonly=on`,
      "-daemonize", "-pidfile", `${otherDir}/q.pid`];
    try {
      const started = await onHost().exec(asOther);
      assert.strictEqual(started.exitCode, 0, started.stderr);
      assert.strictEqual(handPids().length, 1, "the other user's QEMU runs");
      await assert.rejects(vmP.create!({ ...haltingVm(conn, name, image), adopt: true }), /adopt: no running QEMU instance has -name hand-/);
    } finally {
      for (const pid of handPids()) killProcess(pid);
      await onHost().exec(["rm", "-rf", "--", otherDir]);
    }

    // A VM of this package with this name, managed from another working directory.
    const managed = await vmP.create!(haltingVm({ ...conn, workDir: `${workDir}/other-workdir` }, name, image));
    try {
      await assert.rejects(vmP.create!({ ...haltingVm(conn, name, image), adopt: true }), /adopt: no running QEMU instance has -name hand-/);
      assert.deepStrictEqual(handPids(), [managed.outs.pid], "the managed VM was touched");
    } finally {
      await vmP.delete!(managed.id, managed.outs);
    }

    // The process checked is the process recorded: another start time (a reused PID) records nothing.
    assert.strictEqual((await onHost().exec(handArgv)).exitCode, 0);
    const [found] = await findHandStarted(onHost(), name);
    assert.ok(found?.startedAt, "the start time is read with the command line");
    await assert.rejects(recordAdopted(onHost(), vmLayout(workDir, name), vmSpec(haltingVm(conn, name, image)).spec, { ...found, startedAt: "1" }),
      /ended before it could be adopted \(or its PID now names another process\); nothing was recorded/);
    assert.strictEqual((await onHost().exec(["test", "-e", vmLayout(workDir, name).identity])).exitCode, 1, "an identity was recorded");
    assert.deepStrictEqual(handPids(), [found.pid]);
  });
});
