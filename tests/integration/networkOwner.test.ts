/**
 * Issue 27, Network ownership on a shared SSH host (one SSH user, one working directory): a
 * second stack's Network of the same name is refused naming the first's owner, and the first's
 * switch runs on untouched; a switch directory whose record is another's refuses refresh and
 * delete; the owner's own destroy removes it.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { switchLayout } from "../../provider/layout";
import { networkProvider } from "../../sdk/network";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { isAlive, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed } from "../testbed/testbed";

describe("Network ownership on a shared host (real switches over SSH)", function () {
  this.timeout(120000);
  const [h1] = testbed().hosts;
  const run = randomBytes(3).toString("hex");
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir: `${h1.workDir}/net-owner-${run}` };
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const name = `lab${run}`;
  const as = (stack: string, subnet = "10.91.0.0/24") => ({ name, subnet, hosts: [{ host: conn }], owner: { project: "lab", stack, resource: "lab" } });
  let netP: pulumi.dynamic.ResourceProvider;

  before(async () => { netP = (await roundTripProvider(networkProvider)).provider; });
  after(async () => {
    await onHost().exec(["sh", "-c", `pkill -KILL -f -- "guest=network-${name}"; rm -rf -- "$1"`, "x", conn.workDir!]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("a second stack's Network of the same name is refused naming the owner; the first's switch runs on; a forged record refuses refresh and delete", async () => {
    const first = await netP.create!(as("one"));
    const [switchPid] = vmQemuPids(`network-${name}`);
    assert.ok(switchPid, "no switch runs");
    await assert.rejects(netP.create!(as("two", "10.92.0.0/24")), /network lab[0-9a-f]+: its switch directory .* belongs to project lab, stack one, resource lab, not to this resource; nothing of it was touched/);
    assert.deepStrictEqual(vmQemuPids(`network-${name}`), [switchPid], "the refused create touched the first's switch");
    assert.strictEqual((await netP.read!(first.id, first.outs)).props?.status, "running");

    const owner = switchLayout(conn.workDir!, name).owner;
    const own = (await onHost().readFile(owner)).toString();
    await onHost().writeFile(owner, own.replace(/"id":"[0-9a-f]+"/, `"id":"${"0".repeat(32)}"`).replace('"stack":"one"', '"stack":"three"'));
    await assert.rejects(netP.read!(first.id, first.outs), /belongs to project lab, stack three/);
    await assert.rejects(netP.delete!(first.id, first.outs), /belongs to project lab, stack three/);
    assert.ok(isAlive(switchPid), "a refused delete stopped the switch");

    await onHost().writeFile(owner, own);
    await netP.delete!(first.id, first.outs);
    assert.deepStrictEqual(vmQemuPids(`network-${name}`), []);
  });
});
