/** Private-network addresses: subnets, membership, overlap, positions, MACs. */
import * as assert from "assert";
import { hostAddress, macFor, nthAddress, overlaps, parseSubnet, subnetText } from "../../provider/subnet";

const refused = (f: () => unknown, property: string, reason: RegExp) =>
  assert.throws(f, (e: Error & { property?: string }) => e.property === property && reason.test(e.message));

describe("private network subnets", () => {
  it("parses subnets; refuses what is not one, naming the property", () => {
    assert.strictEqual(subnetText(parseSubnet("10.77.0.0/24", "subnet")), "10.77.0.0/24");
    assert.strictEqual(subnetText(parseSubnet("192.168.4.0/22", "subnet")), "192.168.4.0/22");
    for (const bad of ["10.77.0.0", "10.77.0.0/7", "10.77.0.0/31", "10.77.0.256/24", "10.77.0.0/24/1", "x/24", 24, "010.1.0.0/16"]) {
      refused(() => parseSubnet(bad, "subnet"), "subnet", /must be an IPv4 subnet/);
    }
    refused(() => parseSubnet("10.77.0.5/24", "subnet"), "subnet", /host bits set: the subnet is 10\.77\.0\.0\/24/);
  });

  it("overlap", () => {
    const s = (t: string) => parseSubnet(t, "s");
    assert.strictEqual(overlaps(s("10.77.0.0/24"), s("10.77.0.0/16")), true);
    assert.strictEqual(overlaps(s("10.77.1.0/24"), s("10.77.0.0/24")), false);
    assert.strictEqual(overlaps(s("10.77.0.128/25"), s("10.77.0.0/24")), true);
    assert.strictEqual(overlaps(s("10.0.0.0/8"), s("11.0.0.0/8")), false);
  });

  it("a member's address: inside, not the network or broadcast address", () => {
    const net = parseSubnet("10.77.0.0/24", "subnet");
    assert.strictEqual(hostAddress("10.77.0.5", net, "a"), "10.77.0.5");
    refused(() => hostAddress("10.77.1.5", net, "networks[1].address"), "networks[1].address", /not a host address of 10\.77\.0\.0\/24 \(10\.77\.0\.1 to 10\.77\.0\.254\)/);
    refused(() => hostAddress("10.77.0.0", net, "a"), "a", /not a host address/);
    refused(() => hostAddress("10.77.0.255", net, "a"), "a", /not a host address/);
    refused(() => hostAddress("ten", net, "a"), "a", /must be an IPv4 address/);
  });

  it("addresses by position, and MACs from addresses", () => {
    const net = parseSubnet("10.77.0.0/29", "subnet");
    assert.strictEqual(nthAddress(net, 1, "p"), "10.77.0.1");
    assert.strictEqual(nthAddress(net, 6, "p"), "10.77.0.6");
    refused(() => nthAddress(net, 7, "count"), "count", /has 6 host addresses; number 7/);
    assert.strictEqual(macFor("10.77.0.5"), "52:54:0a:4d:00:05");
    assert.strictEqual(macFor("192.168.255.254"), "52:54:c0:a8:ff:fe");
  });
});
