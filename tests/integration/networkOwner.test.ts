/**
 * Issue 27, Network ownership on shared SSH hosts (one SSH user, one working directory): a second
 * stack's Network of the same name and subnet over the same two hosts is a network of its own
 * (its own switches under its own name on the hosts, its own link ports from the ledgers), and
 * the first's switches run on untouched; a switch directory whose record is another's refuses
 * refresh and delete; each owner's delete removes only its own.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { switchLayout, switchName } from "../../provider/layout";
import { ensureSwitch } from "../../provider/network/switch";
import { networkProvider } from "../../sdk/network";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { isAlive, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, type TestHost } from "../testbed/testbed";

describe("Network ownership on shared hosts (real switches over SSH)", function () {
  this.timeout(120000);
  const [h1, h2] = testbed().hosts;
  const run = randomBytes(3).toString("hex");
  const conn = (h: TestHost): Connection => ({ kind: "ssh", ...sshOptionsFor(h), workDir: `${h.workDir}/net-owner-${run}` });
  const onHost = (h: TestHost) => sshTransport(sshOptionsFor(h));
  const name = `lab${run}`;
  const as = (stack: string) => ({ name, subnet: "10.91.0.0/24", hosts: [h1, h2].map((h) => ({ host: conn(h), address: h.lanAddress })), owner: { project: "lab", stack, resource: "lab" } });
  const switchPids = (outs: { switches: Array<{ pid?: number }> }) => outs.switches.map((s) => s.pid!);
  let netP: pulumi.dynamic.ResourceProvider;

  before(async () => { netP = (await roundTripProvider(networkProvider)).provider; });
  after(async () => {
    for (const h of [h1, h2]) await onHost(h).exec(["sh", "-c", `pkill -KILL -f -- "guest=network-(${name}|old${run})"; rm -rf -- "$1"`, "x", conn(h).workDir!]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("two stacks' networks of one name run side by side on their own switches and ports; a forged record refuses refresh and delete; each delete removes its own", async () => {
    const one = await netP.create!(as("one"));
    const two = await netP.create!(as("two"));
    assert.notStrictEqual(one.outs.hostName, two.outs.hostName);
    for (const n of [one, two]) assert.match(n.outs.hostName, new RegExp(`^${name}\\.[0-9a-f]{8}$`));
    assert.deepStrictEqual([...one.outs.switches, ...two.outs.switches].map((s: { status: string }) => s.status), ["running", "running", "running", "running"]);
    assert.strictEqual(vmQemuPids(`network-${name}`).length, 4, "not four switches (two per host)");
    const ports = (n: typeof one) => Object.values(n.outs.linkPorts as Record<string, number[]>).flat();
    assert.deepStrictEqual(ports(one).filter((p) => ports(two).includes(p)), [], "the two networks share a link port");
    assert.strictEqual((await netP.read!(one.id, one.outs)).props?.status, "running");
    const ownerOf = (n: typeof one) => switchLayout(conn(h1).workDir!, n.outs.hostName).owner;
    assert.match((await onHost(h1).readFile(ownerOf(two))).toString(), /"stack":"two"/);

    // A record that is not its own (forged here) refuses refresh and delete, and nothing stops.
    const own = (await onHost(h1).readFile(ownerOf(one))).toString();
    await onHost(h1).writeFile(ownerOf(one), own.replace(/"id":"[0-9a-f]+"/, `"id":"${"0".repeat(32)}"`).replace('"stack":"one"', '"stack":"three"'));
    await assert.rejects(netP.read!(one.id, one.outs), /network lab[0-9a-f]+: its switch directory .* belongs to project lab, stack three, resource lab, not to this resource; nothing of it was touched/);
    await assert.rejects(netP.delete!(one.id, one.outs), /belongs to project lab, stack three/);
    assert.ok(switchPids(one.outs).every(isAlive), "a refused delete stopped a switch");

    await onHost(h1).writeFile(ownerOf(one), own);
    await netP.delete!(one.id, one.outs);
    assert.ok(!switchPids(one.outs).some(isAlive), "the delete left a switch of its own");
    assert.ok(switchPids(two.outs).every(isAlive), "one's delete stopped two's switches");
    assert.strictEqual((await netP.read!(two.id, two.outs)).props?.status, "running");
    await netP.delete!(two.id, two.outs);
    assert.deepStrictEqual(vmQemuPids(`network-${name}`), []);
  });

  it("a network an older release made (networks/NAME, no record, no hostName in its state) keeps its name and ports, and its stack's update claims it", async () => {
    const legacy = `old${run}`;
    const c = conn(h1);
    await ensureSwitch(onHost(h1), c.workDir!, { name: switchName(legacy), network: legacy, subnet: "10.93.0.0/24", links: [] });
    const [pid] = vmQemuPids(`network-${legacy}`);
    const recorded = { name: legacy, subnet: "10.93.0.0/24", hosts: [{ host: c }], switches: [{ host: "x", status: "running", pid }], status: "running" };
    const read = (await netP.read!(`network:${legacy}`, recorded)).props!;
    assert.deepStrictEqual([read.hostName, read.status, read.linkPorts], [legacy, "running", undefined]);
    const updated = (await netP.update!(`network:${legacy}`, recorded, { name: legacy, subnet: "10.93.0.0/24", hosts: [{ host: c }], owner: { project: "lab", stack: "old", resource: legacy } })).outs;
    assert.deepStrictEqual([updated.hostName, updated.linkPorts, vmQemuPids(`network-${legacy}`)], [legacy, undefined, [pid]], "the update renamed or restarted the old network");
    assert.match((await onHost(h1).readFile(switchLayout(c.workDir!, legacy).owner)).toString(), /"stack":"old"/);
    await netP.delete!(`network:${legacy}`, updated);
    assert.deepStrictEqual(vmQemuPids(`network-${legacy}`), []);
  });
});
