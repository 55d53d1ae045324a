/** A network's switch and a member's NIC as QEMU argv (pure): the star of links, the ports, the sink. */
import * as assert from "assert";
import { check as checkNetwork, defaultPort } from "../../provider/resources/network";
import { check as checkVm } from "../../provider/resources/vm";
import { qemuArgv } from "../../provider/vm/argv";
import { switchLayout } from "../../provider/layout";
import { memberPort, starLinks, starLinksOf, starPortCounts, switchArgv } from "../../provider/network/switchArgv";
import { vmLayout } from "../../provider/layout";
import { vmSpec } from "../../provider/vm/spec";

const hosts = [{ address: "10.0.0.1" }, { address: "10.0.0.2" }, { address: "10.0.0.3" }];

describe("network switch (pure)", () => {
  it("a star: the first host links to each other one on its own port; the others link only to the first (no loop)", () => {
    assert.deepStrictEqual(starLinks(hosts, 0, 47000), [
      { local: { host: "10.0.0.1", port: 47001 }, remote: { host: "10.0.0.2", port: 47000 } },
      { local: { host: "10.0.0.1", port: 47002 }, remote: { host: "10.0.0.3", port: 47000 } },
    ]);
    assert.deepStrictEqual(starLinks(hosts, 2, 47000), [{ local: { host: "10.0.0.3", port: 47000 }, remote: { host: "10.0.0.1", port: 47002 } }]);
    assert.deepStrictEqual(starLinks(hosts.slice(0, 1), 0, 47000), []);
  });

  it("a star from each host's own ports (ledger ones): the centre's n-1 in the order of the others, one for each other", () => {
    assert.deepStrictEqual([1, 2, 3, 4].map(starPortCounts), [[0], [1, 1], [2, 1, 1], [3, 1, 1, 1]]);
    const ports = [[21001, 24002], [25003], [20004]];
    assert.deepStrictEqual(starLinksOf(hosts, 0, ports), [
      { local: { host: "10.0.0.1", port: 21001 }, remote: { host: "10.0.0.2", port: 25003 } },
      { local: { host: "10.0.0.1", port: 24002 }, remote: { host: "10.0.0.3", port: 20004 } },
    ]);
    assert.deepStrictEqual(starLinksOf(hosts, 1, ports), [{ local: { host: "10.0.0.2", port: 25003 }, remote: { host: "10.0.0.1", port: 21001 } }]);
    assert.deepStrictEqual(starLinksOf(hosts, 2, ports), [{ local: { host: "10.0.0.3", port: 20004 }, remote: { host: "10.0.0.1", port: 24002 } }]);
  });

  it("a member joins a network by its name on the host (NAME.TAG); the name part is checked as any name", async () => {
    const vm = (network: string) => vmSpec({ host: { kind: "local", workDir: "/w" }, name: "a", networks: [{ type: "user" }, { type: "private", network, subnet: "10.77.0.0/24", address: "10.77.0.10" }] }).errors.map((e) => e.property);
    assert.deepStrictEqual(vm(`${"n".repeat(63)}.0123abcd`), []);
    assert.deepStrictEqual(vm(`${"n".repeat(64)}.0123abcd`), ["networks[1].network"]);
    assert.deepStrictEqual(vm("../x.0123abcd"), ["networks[1].network"]);
  });

  it("a host's address must be one the other hosts can reach: not 0.0.0.0, loopback, multicast, broadcast or reserved", async () => {
    const ssh = (host: string) => ({ kind: "ssh" as const, host, user: "u", privateKey: "k", insecureAcceptAnyHostKey: true, workDir: "/w" });
    const failures = async (hosts: Array<{ host: ReturnType<typeof ssh>; address?: string }>) =>
      ((await checkNetwork({}, { name: "lab", subnet: "10.77.0.0/24", hosts })).failures ?? []).map((f) => `${f.property}: ${f.reason}`);
    const second = { host: ssh("10.0.0.2") };
    for (const [address, reason] of [["0.0.0.0", /this host/], ["127.0.0.1", /loopback/], ["224.0.0.5", /multicast/], ["255.255.255.255", /broadcast/], ["240.1.2.3", /reserved/]] as const) {
      const got = await failures([{ host: ssh("10.0.0.1"), address }, second]);
      assert.strictEqual(got.length, 1, `${address}: ${got}`);
      assert.match(got[0], new RegExp(`^hosts\\[0\\]\\.address: ${address.replace(/\./g, "\\.")} .*${reason.source}`));
    }
    assert.deepStrictEqual(await failures([{ host: ssh("127.0.0.1") }, second]), ["hosts[0].address: 127.0.0.1 is a loopback address: other hosts cannot reach this one there: give the address the network's other hosts reach this one at"], "the SSH host's address, when it is the one used");
    assert.deepStrictEqual(await failures([{ host: ssh("127.0.0.1") }]), [], "one host: no link, its address is not used");
    assert.deepStrictEqual(await failures([{ host: ssh("10.0.0.1"), address: "192.168.1.7" }, second]), []);
  });

  it("the switch: no guest, its state files, a sink port, a port per member, a port per link", () => {
    const layout = switchLayout("/w", "lab");
    assert.strictEqual(layout.pidfile, "/w/networks/lab/qemu.pid");
    const argv = switchArgv("qemu-system-x86_64", "/w", { name: "network-lab", network: "lab", subnet: "10.77.0.0/24", links: starLinks(hosts, 1, 47000) }, layout, ["10.77.0.10"]);
    const text = argv.join(" ");
    assert.match(text, /-machine none .*-qmp unix:\/w\/networks\/lab\/qmp\.sock,server=on,wait=off -pidfile \/w\/networks\/lab\/qemu\.pid/);
    assert.match(text, /-netdev hubport,id=sink,hubid=0 /);
    assert.match(text, /-netdev dgram,id=link0,local\.type=inet,local\.host=10\.0\.0\.2,local\.port=47000,remote\.type=inet,remote\.host=10\.0\.0\.1,remote\.port=47001 -netdev hubport,id=hlink0,hubid=0,netdev=link0/);
    assert.match(text, /-netdev dgram,id=m-10-77-0-10,local\.type=unix,local\.path=\/w\/networks\/lab\/10\.77\.0\.10\.hub,remote\.type=unix,remote\.path=\/w\/networks\/lab\/10\.77\.0\.10\.vm -netdev hubport,id=hm-10-77-0-10,hubid=0,netdev=m-10-77-0-10$/);
    assert.deepStrictEqual(memberPort("/w", "lab", "10.77.0.10")[1], { type: "hubport", id: "hm-10-77-0-10", hubid: 0, netdev: "m-10-77-0-10" });
  });

  it("a member's NIC: a datagram socket in its state directory to the switch's port, a MAC from its address", () => {
    const { spec, errors } = vmSpec({ host: { kind: "local", workDir: "/w" }, name: "a", networks: [{ type: "user" }, { type: "private", network: "lab", subnet: "10.77.0.0/24", address: "10.77.0.10" }] });
    assert.deepStrictEqual(errors, []);
    const argv = qemuArgv(spec, { qemuBinary: "q", accelerators: ["tcg"], layout: vmLayout("/w", "a"), workDir: "/w" }).join(" ");
    assert.match(argv, /-netdev dgram,id=net1,local\.type=unix,local\.path=\/w\/vms\/a\/net-lab\.dgram,remote\.type=unix,remote\.path=\/w\/networks\/lab\/10\.77\.0\.10\.hub -device virtio-net-pci,netdev=net1,mac=52:54:0a:4d:00:0a/);
  });

  it("default ports stay with the name and leave room for 8 links", () => {
    assert.strictEqual(defaultPort("lab"), defaultPort("lab"));
    assert.notStrictEqual(defaultPort("lab"), defaultPort("lab2"));
    for (const n of ["a", "lab", "ci-net", "x".repeat(63)]) assert.ok(defaultPort(n) >= 46000 && defaultPort(n) + 8 <= 65535 - 64, n);
  });

  it("socket paths the kernel could not bind are refused at check, naming the property", async () => {
    const long = `/${"w".repeat(80)}`;
    const net = await checkNetwork({}, { name: "lab", subnet: "10.77.0.0/24", hosts: [{ host: { kind: "local", workDir: long } }] });
    assert.deepStrictEqual(net.failures?.map((f) => f.property), ["hosts[0].host.workDir"]);
    assert.match(net.failures![0].reason, /the network's socket .*255\.255\.255\.255\.hub would be 1\d\d bytes with its terminator; Linux allows 108/);
    assert.deepStrictEqual((await checkNetwork({}, { name: "lab", subnet: "10.77.0.0/24", hosts: [{ host: { kind: "local", workDir: "/w" } }] })).failures, undefined);
    const vm = await checkVm({}, { host: { kind: "local", workDir: `/${"w".repeat(40)}` }, name: "a".repeat(40),
      networks: [{ type: "user" }, { type: "private", network: "n".repeat(30), subnet: "10.77.0.0/24", address: "10.77.0.9" }] });
    assert.deepStrictEqual(vm.failures?.map((f) => f.property), ["networks[1].network"]);
  });
});
