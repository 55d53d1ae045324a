/**
 * Adopting a QEMU instance started by hand (Vm `adopt`), through the serialized provider on an
 * SSH host: refused when it does not match the declaration, taken over without a restart when
 * it does, then refreshed and stopped like any other.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { vmLayout } from "../../provider/vm/layout";
import { vmProvider } from "../../sdk/vm";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { liveQemuPids } from "../helpers/processes";
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
  const handPids = () => liveQemuPids(`guest=${name} `);
  let vmP: pulumi.dynamic.ResourceProvider;

  before(async () => {
    vmP = (await roundTripProvider(vmProvider)).provider;
    await onHost().exec(["mkdir", "-p", workDir]);
    await onHost().writeFile(image, haltBootSector());
  });
  after(async () => {
    await onHost().exec(["sh", "-c", `pkill -KILL -f -- "guest=${name} " ; rm -rf -- "$1"`, "x", workDir]).catch(() => undefined);
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
    assert.strictEqual((await onHost().exec(["test", "-e", vmLayout(workDir, name).dir])).exitCode, 1, "the state directory stays");
  });
});
