/**
 * Network through serialized providers on the real SSH test hosts, with real QEMU (TCG) and the
 * tiny guest: members on one host and on different hosts reach each other on their private
 * addresses (pinged from inside the guests) and still reach the outside through user-mode
 * networking; a killed switch is seen by refresh and restarted by up without restarting members;
 * wrong inputs are refused naming the property (an update that would restart a member onto a
 * taken address, before it stops the member); delete leaves no switch.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { checkJoin, listMembers } from "../../provider/network/switch";
import { vmLayout } from "../../provider/layout";
import { networkProvider } from "../../sdk/network";
import { vmProvider } from "../../sdk/vm";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { liveQemuPids, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, type TestHost, GUEST_APPEND } from "../testbed/testbed";
import { firstForwardPort } from "../helpers/ports";
import { guestExec } from "../helpers/guest";

describe("Network (serialized providers, real QEMU on the SSH test hosts)", function () {
  this.timeout(600000);
  const bed = testbed();
  const [h1, h2, h3] = bed.hosts;
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const run = randomBytes(3).toString("hex");
  const conn = (h: TestHost): Connection => ({ kind: "ssh", ...sshOptionsFor(h), workDir: `${h.workDir}/net-${run}` });
  const onHost = (h: TestHost) => sshTransport(sshOptionsFor(h));
  let vmP: pulumi.dynamic.ResourceProvider;
  let netP: pulumi.dynamic.ResourceProvider;
  let port = firstForwardPort();
  const member = (h: TestHost, name: string, network: string, subnet: string, address: string) => ({
    host: conn(h), name, memory: "192M", accelerator: "tcg",
    kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`,
    append: `${GUEST_APPEND} pulumi-qemu.ip=${address}/${subnet.split("/")[1]}`,
    networks: [{ type: "user", ports: [{ host: ++port, guest: 22 }] }, { type: "private", network, subnet, address }],
    guestPrivateKey: guestKey,
    readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", guestPort: 22, timeoutMs: 120000 },
    stopTimeouts: { powerdownMs: 0, quitMs: 3000 },
  });
  const inGuest = (g: { host: string; port: number }, script: string) => guestExec(g, guestKey, ["sh", "-c", script]);
  const pings = async (from: { guestConnection: { host: string; port: number } }, address: string) =>
    (await inGuest(from.guestConnection, `ping -c 2 -W 3 ${address}`)).exitCode === 0;

  before(async () => {
    vmP = (await roundTripProvider(vmProvider)).provider;
    netP = (await roundTripProvider(networkProvider)).provider;
  });
  after(async () => {
    for (const pid of liveQemuPids(`/net-${run}/`)) await onHost(h1).exec(["kill", "-KILL", String(pid)]).catch(() => undefined);
    for (const h of [h1, h2, h3]) await onHost(h).exec(["rm", "-rf", "--", conn(h).workDir!]).catch(() => undefined);
    await onHost(h3).exec(["rm", "-rf", "--", `${h3.workDir}/net-plain-${run}`]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("one host: two members ping each other privately and still reach the outside; a killed switch comes back on up, members untouched", async () => {
    const subnet = "10.77.0.0/24";
    const net = await netP.create!({ name: "lab", subnet, hosts: [{ host: conn(h1) }] });
    assert.strictEqual(net.outs.status, "running");
    const lab = net.outs.hostName;
    assert.match(lab, /^lab\.[0-9a-f]{8}$/, "the network's name on the host is not its owner's");
    const a = await vmP.create!(member(h1, "a", lab, subnet, "10.77.0.10"));
    const b = await vmP.create!(member(h1, "b", lab, subnet, "10.77.0.11"));
    assert.ok(await pings(a.outs, "10.77.0.11"), "a does not reach b");
    assert.ok(await pings(b.outs, "10.77.0.10"), "b does not reach a");
    assert.ok(!await pings(a.outs, "10.77.0.12"), "an address nobody has answers");
    // The outside (here: the host's sshd, through user-mode networking's NAT) is still reached.
    assert.match((await inGuest(a.outs.guestConnection, `echo | nc -w 3 ${h1.address} 22 | head -c 7`)).stdout, /^SSH-2.0/);

    // An address another running member has: refused, naming the property, nothing started.
    await assert.rejects(vmP.create!(member(h1, "c", lab, subnet, "10.77.0.11")), (e: Error & { property?: string }) =>
      e.property === "networks[1].address" && /10\.77\.0\.11 on network lab is taken by VM b/.test(e.message));
    assert.deepStrictEqual(vmQemuPids("c"), []);
    // The same on an update that would restart b onto a's address: refused before b is stopped.
    await assert.rejects(vmP.update!(b.id, b.outs, member(h1, "b", lab, subnet, "10.77.0.10")), (e: Error & { property?: string }) =>
      e.property === "networks[1].address" && /10\.77\.0\.10 on network lab is taken by VM a/.test(e.message));
    assert.deepStrictEqual(vmQemuPids("b"), [b.outs.pid], "the refused update stopped or restarted b");
    assert.ok(await pings(a.outs, "10.77.0.11"), "after the refused update, a does not reach b");

    // The switch dies: refresh says so; up restarts it with both ports; the members keep running.
    await onHost(h1).exec(["kill", "-KILL", String(net.outs.switches[0].pid)]);
    const seen = (await netP.read!(net.id, net.outs)).props!;
    assert.strictEqual(seen.status, "degraded");
    assert.strictEqual((await netP.diff!(net.id, seen, net.outs)).changes, true);
    const repaired = (await netP.update!(net.id, seen, { name: "lab", subnet, hosts: [{ host: conn(h1) }] })).outs;
    assert.strictEqual(repaired.status, "running");
    assert.ok(await pings(a.outs, "10.77.0.11"), "after the switch's restart, a does not reach b");
    assert.deepStrictEqual([...vmQemuPids("a"), ...vmQemuPids("b")], [a.outs.pid, b.outs.pid], "a member was restarted");

    // b moves to another address: it leaves the old one (free for another VM), and after the
    // switch's next restart it still gets each frame once (a port per link: an old link doubled them).
    const moved = (await vmP.update!(b.id, b.outs, member(h1, "b", lab, subnet, "10.77.0.13"))).outs;
    const links = async () => (await listMembers(onHost(h1), conn(h1).workDir!, lab)).map((m) => m.address).sort();
    assert.deepStrictEqual(await links(), ["10.77.0.10", "10.77.0.13"]);
    await checkJoin(onHost(h1), conn(h1).workDir!, vmLayout(conn(h1).workDir!, "c.00000000"), "c", lab, "10.77.0.11", "networks[1].address");
    await onHost(h1).exec(["kill", "-KILL", String(repaired.switches[0].pid)]);
    const again = (await netP.update!(net.id, (await netP.read!(net.id, repaired)).props!, { name: "lab", subnet, hosts: [{ host: conn(h1) }] })).outs;
    const ping = await inGuest(a.outs.guestConnection, "ping -c 3 -W 3 10.77.0.13");
    assert.strictEqual(ping.exitCode, 0, `a does not reach b at its new address: ${ping.stdout}`);
    assert.doesNotMatch(ping.stdout, /DUP/, "b answered twice: the switch still has a port at its old address");

    // Wrong inputs.
    // Another network whose subnet overlaps is a segment of its own: it runs beside (a VM on both is refused below).
    const wide = await netP.create!({ name: "wide16", subnet: "10.77.0.0/16", hosts: [{ host: conn(h1) }] });
    assert.strictEqual(wide.outs.status, "running");
    await netP.delete!(wide.id, wide.outs);
    assert.deepStrictEqual(vmQemuPids("network-wide16"), [], "a deleted network left a switch");
    const failures = async (i: Record<string, unknown>) => ((await vmP.check!({}, { ...member(h1, "d", lab, subnet, "10.77.0.12"), ...i })).failures ?? []).map((f) => f.property);
    const user = { type: "user", ports: [{ host: ++port, guest: 22 }] };
    assert.deepStrictEqual(await failures({ networks: [user, { type: "private", network: lab, subnet, address: "10.78.0.1" }] }), ["networks[1].address"]);
    assert.deepStrictEqual(await failures({ networks: [user, { type: "private", network: lab, subnet, address: "10.77.0.1" }, { type: "private", network: "lab2", subnet: "10.77.0.0/25", address: "10.77.0.2" }] }), ["networks[2].subnet"]);
    assert.deepStrictEqual(await failures({ networks: [user, { type: "private", network: lab, subnet, address: "10.77.0.1" }, { type: "private", network: lab, subnet, address: "10.77.0.2" }] }), ["networks[2].network"]);
    const netFailures = async (i: Record<string, unknown>) => ((await netP.check!({}, { name: "n", subnet, hosts: [{ host: conn(h1) }], ...i })).failures ?? []).map((f) => f.property);
    assert.deepStrictEqual(await netFailures({ subnet: "10.77.0.1/24" }), ["subnet"]);
    assert.deepStrictEqual(await netFailures({ hosts: [{ host: { ...conn(h1), host: "h1.lab" } }, { host: conn(h2) }] }), ["hosts[0].address"]);
    assert.deepStrictEqual(await netFailures({ hosts: [{ host: conn(h1) }, { host: conn(h1) }] }), ["hosts[1].host"]);

    // The network is not removed under running members; after them it goes, leaving no switch.
    await assert.rejects(netP.delete!(net.id, again), (e: Error & { code?: string }) => e.code === "IN_USE" && /not removing network lab: VM a \(10\.77\.0\.10\), VM b \(10\.77\.0\.13\) still run on it/.test(e.message));
    await vmP.delete!(a.id, a.outs);
    await vmP.delete!(b.id, moved);
    await netP.delete!(net.id, again);
    assert.deepStrictEqual(vmQemuPids("network-lab"), []);
    assert.strictEqual((await onHost(h1).exec(["test", "-e", `${conn(h1).workDir}/networks/${lab}`])).exitCode, 1);
  });

  it("three hosts: members on different hosts reach each other through the linked switches", async () => {
    const subnet = "10.88.0.0/24";
    const hosts = [h1, h2, h3].map((h) => ({ host: conn(h), address: h.lanAddress }));
    const net = await netP.create!({ name: "wide", subnet, hosts });
    assert.deepStrictEqual(net.outs.switches.map((s: { status: string }) => s.status), ["running", "running", "running"]);
    const ports = Object.values(net.outs.linkPorts as Record<string, number[]>);
    assert.deepStrictEqual(ports.map((p) => p.length), [2, 1, 1], "the centre has a link port per other host, the others one each");
    assert.ok(ports.flat().every((p) => p >= 20000 && p <= 29999), `link ports not from the ledger: ${ports}`);
    const x = await vmP.create!(member(h2, "x", net.outs.hostName, subnet, "10.88.0.20"));
    const y = await vmP.create!(member(h3, "y", net.outs.hostName, subnet, "10.88.0.30"));
    assert.ok(await pings(x.outs, "10.88.0.30"), "h2's member does not reach h3's (through h1's switch)");
    assert.ok(await pings(y.outs, "10.88.0.20"), "h3's member does not reach h2's");
    await vmP.delete!(x.id, x.outs);
    await vmP.delete!(y.id, y.outs);
    await netP.delete!(net.id, net.outs);
    assert.deepStrictEqual(vmQemuPids("network-wide"), []);
  });

  it("no root: as an unprivileged user (h3's pqemu-user, not in the kvm group), the switch runs and two members reach each other", async () => {
    const plain = (): Connection => ({ kind: "ssh", ...sshOptionsFor(h3, { user: bed.plainUser }), workDir: `${h3.workDir}/net-plain-${run}` });
    const subnet = "10.91.0.0/24";
    // The guest's files, where that user can read them (the cache is root's).
    const dir = plain().workDir!;
    await onHost(h3).exec(["sh", "-c", 'mkdir -p "$1" && cp "$2/vmlinuz" "$2/initramfs.gz" "$1"/ && chown -R "$3" "$1"', "x", dir, h3.guestDir, bed.plainUser]);
    const net = await netP.create!({ name: "mine", subnet, hosts: [{ host: plain() }] });
    const asPlain = (name: string, address: string) => ({ ...member(h3, name, net.outs.hostName, subnet, address), host: plain(), kernel: `${dir}/vmlinuz`, initrd: `${dir}/initramfs.gz` });
    const [a, b] = [await vmP.create!(asPlain("pa", "10.91.0.10")), await vmP.create!(asPlain("pb", "10.91.0.11"))];
    assert.ok(await pings(a.outs, "10.91.0.11"), "an unprivileged member does not reach the other");
    const owner = (await onHost(h3).exec(["sh", "-c", `ps -o user= -p ${net.outs.switches[0].pid}`])).stdout.trim();
    assert.strictEqual(owner, bed.plainUser, "the switch does not run as the SSH user");
    await vmP.delete!(a.id, a.outs);
    await vmP.delete!(b.id, b.outs);
    await netP.delete!(net.id, net.outs);
    await onHost(h3).exec(["rm", "-rf", "--", plain().workDir!]);
  });
});

