/** Forwards without a host port (provider/vm/ports.ts): which need one, and where allocations go. */
import * as assert from "assert";
import { unallocated, withAutoPorts } from "../../provider/vm/ports";
import { forwardAddressFromClient, forwardAddressOnHost, forwardedPorts, vmSpec, type VmInputs } from "../../provider/vm/spec";

const host = { kind: "local" as const, workDir: "/w" };

describe("auto host ports", () => {
  const cases: Array<[string, Pick<VmInputs, "ports" | "networks">, Record<string, number>, string[]]> = [
    ["none", { ports: [{ host: 2222, guest: 22 }] }, {}, []],
    ["no host and \"auto\"", { ports: [{ guest: 22 }, { host: "auto", guest: 53, protocol: "udp" }] }, {}, ["tcp/22", "udp/53"]],
    ["two forwards of one guest port", { ports: [{ guest: 80 }, { guest: 80 }] }, {}, ["tcp/80", "tcp/80#2"]],
    ["already allocated: only the new one", { ports: [{ guest: 22 }, { guest: 80 }] }, { "tcp/22": 20001 }, ["tcp/80"]],
    ["inside networks, user ones only", { networks: [{ type: "user", ports: [{ guest: 22 }] }, { type: "private", network: "n", subnet: "10.0.0.0/24", address: "10.0.0.2" }] }, {}, ["tcp/22"]],
  ];
  for (const [what, inputs, allocated, expected] of cases) {
    it(what, () => assert.deepStrictEqual(unallocated(inputs, allocated).map((m) => m.key), expected));
  }

  it("allocations take their forwards' places; numbers given stay; the spec then has no 0", () => {
    const inputs: VmInputs = { host, name: "v", ports: [{ guest: 22 }, { host: 8080, guest: 80 }, { host: "auto", guest: 53, protocol: "udp" }] };
    const before = forwardedPorts(vmSpec(inputs).spec).map((p) => p.host);
    assert.deepStrictEqual(before, [0, 8080, 0], "an unallocated auto forward is 0 in the spec (check and diff only)");
    assert.deepStrictEqual(vmSpec(inputs).errors, [], "two auto forwards are not the same host port");
    const placed = withAutoPorts(inputs, { "tcp/22": 20022, "udp/53": 20053 });
    assert.deepStrictEqual(forwardedPorts(vmSpec(placed).spec).map((p) => `${p.protocol}:${p.host}->${p.guest}`), ["tcp:20022->22", "tcp:8080->80", "udp:20053->53"]);
  });

  it("a host port that is neither a number nor auto is refused naming it", () => {
    const { errors } = vmSpec({ host, name: "v", ports: [{ host: "any" as unknown as number, guest: 22 }] });
    assert.deepStrictEqual(errors.map((e) => e.property), ["ports[0].host"]);
  });
});

describe("where a forward answers", () => {
  const ssh = { kind: "ssh", host: "lab1.example" };
  const local = { kind: "local" };
  // [what, host, hostAddress, probed on the host (readiness), reached from the Pulumi machine (guestConnection)]
  const rows: Array<[string, { kind: string; host?: string }, string | undefined, string, string | undefined]> = [
    ["all addresses on an SSH host", ssh, "0.0.0.0", "127.0.0.1", "lab1.example"],
    ["one address on an SSH host", ssh, "10.1.2.3", "10.1.2.3", "10.1.2.3"],
    ["the loopback of an SSH host: from there only", ssh, "127.0.0.1", "127.0.0.1", undefined],
    ["the local machine's loopback", local, "127.0.0.1", "127.0.0.1", "127.0.0.1"],
    ["one address on the local machine", local, "192.168.5.4", "192.168.5.4", "192.168.5.4"],
  ];
  for (const [what, h, hostAddress, onHost, fromClient] of rows) {
    it(what, () => {
      assert.strictEqual(forwardAddressOnHost({ hostAddress }), onHost);
      assert.strictEqual(forwardAddressFromClient(h, { hostAddress }), fromClient);
    });
  }
});
