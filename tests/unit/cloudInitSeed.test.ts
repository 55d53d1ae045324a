/** The cloud-init seed: ISO 9660 structure, determinism, instance-id, and errors that never echo content. */
import * as assert from "assert";
import { buildIso } from "../../provider/cloudInit/iso9660";
import { cloudInitSeed } from "../../provider/cloudInit/seed";
import { memberNetworkConfig } from "../../provider/fleet/networkConfig";
import { macFor } from "../../provider/subnet";
import { parse } from "yaml";

const SECTOR = 2048;

/** Reads back one directory of the image (primary or Joliet root) the way ECMA-119 lays it out. */
function rootEntries(image: Buffer, descriptorSector: number): Array<{ name: string; data: Buffer }> {
  const d = image.subarray(descriptorSector * SECTOR);
  const joliet = d[0] === 2;
  const rootExtent = d.readUInt32LE(156 + 2);
  const entries: Array<{ name: string; data: Buffer }> = [];
  for (let at = rootExtent * SECTOR; image[at] > 0;) {
    const len = image[at];
    const extent = image.readUInt32LE(at + 2);
    assert.strictEqual(image.readUInt32BE(at + 6), extent, "both-endian extent");
    const size = image.readUInt32LE(at + 10);
    const id = image.subarray(at + 33, at + 33 + image[at + 32]);
    if (!(id.length === 1 && id[0] <= 1)) {
      const name = joliet ? Buffer.from(id).swap16().toString("utf16le") : id.toString("ascii");
      entries.push({ name, data: image.subarray(extent * SECTOR, extent * SECTOR + size) });
    }
    at += len;
  }
  return entries;
}

describe("cloud-init seed (ISO 9660 + Joliet)", () => {
  const files = [{ name: "user-data", data: Buffer.from("#!/bin/sh\necho hi\n") }, { name: "meta-data", data: Buffer.from("a".repeat(5000)) }];

  it("has the volume descriptors, label cidata, and both name trees pointing at the same bytes", () => {
    const image = buildIso("cidata", files);
    assert.strictEqual(image.length % SECTOR, 0);
    assert.strictEqual(image.subarray(16 * SECTOR + 1, 16 * SECTOR + 6).toString(), "CD001");
    assert.deepStrictEqual([image[16 * SECTOR], image[17 * SECTOR], image[18 * SECTOR]], [1, 2, 255]);
    assert.strictEqual(image.subarray(16 * SECTOR + 40, 16 * SECTOR + 72).toString().trim(), "cidata");
    assert.strictEqual(image.subarray(17 * SECTOR + 88, 17 * SECTOR + 91).toString(), "%/E");
    assert.strictEqual(image.readUInt32LE(16 * SECTOR + 80), image.length / SECTOR, "volume space size");
    const joliet = rootEntries(image, 17);
    assert.deepStrictEqual(joliet.map((e) => e.name), ["meta-data", "user-data"], "sorted Joliet names");
    assert.deepStrictEqual(rootEntries(image, 16).map((e) => e.name), ["META_DATA.;1", "USER_DATA.;1"]);
    assert.deepStrictEqual(joliet.map((e) => e.data.toString()), ["a".repeat(5000), "#!/bin/sh\necho hi\n"]);
  });

  it("is deterministic; a changed user-data changes the image, its hash and the instance-id", () => {
    const a = cloudInitSeed({ userData: "#cloud-config\n" }, "vm1").seed!;
    const b = cloudInitSeed({ userData: "#cloud-config\n" }, "vm1").seed!;
    const c = cloudInitSeed({ userData: "#cloud-config\npackages: [htop]\n" }, "vm1").seed!;
    assert.strictEqual(a.sha256, b.sha256);
    assert.ok(a.image.equals(b.image));
    assert.notStrictEqual(a.sha256, c.sha256);
    assert.notStrictEqual(a.instanceId, c.instanceId);
    assert.match(a.instanceId, /^vm1-[0-9a-f]{12}$/);
  });

  it("meta-data defaults to the VM's name as hostname; a given instance-id and hostname win", () => {
    const meta = (s: ReturnType<typeof cloudInitSeed>) => rootEntries(s.seed!.image, 17).find((e) => e.name === "meta-data")!.data.toString();
    assert.match(meta(cloudInitSeed({}, "web")), /^instance-id: web-[0-9a-f]{12}\nlocal-hostname: web\n$/);
    const given = cloudInitSeed({ metaData: { "instance-id": "i-1", "local-hostname": "db" } }, "web");
    assert.strictEqual(meta(given), "instance-id: i-1\nlocal-hostname: db\n");
    assert.strictEqual(given.seed!.instanceId, "i-1");
  });

  it("user-data given as an object is written as #cloud-config YAML", () => {
    const s = cloudInitSeed({ userData: { hostname: "db", packages: ["htop"] } }, "v");
    const userData = rootEntries(s.seed!.image, 17).find((e) => e.name === "user-data")!.data.toString();
    assert.strictEqual(userData, "#cloud-config\nhostname: db\npackages:\n  - htop\n");
  });

  it("objects are written as YAML 1.1, as cloud-init reads them: a string that 1.1 reads as another type is quoted", () => {
    const s = cloudInitSeed({ userData: { ssh_pwauth: "no", mac: "52:54:00:12:34:56", at: "1:30", flag: true, port: 22 },
      networkConfig: { version: 2, ethernets: { e: { match: { macaddress: "52:54:00:12:34:57" } } } }, metaData: { zone: "on" } }, "v");
    const files = Object.fromEntries(rootEntries(s.seed!.image, 17).map((e) => [e.name, e.data.toString()]));
    assert.strictEqual(files["user-data"], '#cloud-config\nssh_pwauth: "no"\nmac: "52:54:00:12:34:56"\nat: "1:30"\nflag: true\nport: 22\n');
    assert.match(files["network-config"], /macaddress: "52:54:00:12:34:57"/);
    assert.match(files["meta-data"], /zone: "on"/);
    const read = parse(files["user-data"], { version: "1.1" });
    assert.deepStrictEqual(read, { ssh_pwauth: "no", mac: "52:54:00:12:34:56", at: "1:30", flag: true, port: 22 });
  });

  it("network-config is written only when given, as YAML from an object", () => {
    const names = (s: ReturnType<typeof cloudInitSeed>) => rootEntries(s.seed!.image, 17).map((e) => e.name);
    assert.deepStrictEqual(names(cloudInitSeed({}, "v")), ["meta-data", "user-data"]);
    const withNet = cloudInitSeed({ networkConfig: { version: 2 } }, "v");
    assert.deepStrictEqual(names(withNet), ["meta-data", "network-config", "user-data"]);
    assert.strictEqual(rootEntries(withNet.seed!.image, 17)[1].data.toString(), "version: 2\n");
  });

  it("a Fleet member's network-config: the user-mode NIC by DHCP when there is one, the private NIC its address, both by MAC", () => {
    const table: Array<[boolean, string, number, string]> = [
      [true, "10.98.0.11", 24, 'version: 2\nethernets:\n  user0:\n    match:\n      macaddress: "52:54:00:12:34:56"\n    dhcp4: true\n' +
        '  private0:\n    match:\n      macaddress: 52:54:0a:62:00:0b\n    addresses:\n      - 10.98.0.11/24\n'],
      [false, "192.168.7.200", 25, 'version: 2\nethernets:\n  private0:\n    match:\n      macaddress: 52:54:c0:a8:07:c8\n    addresses:\n      - 192.168.7.200/25\n'],
    ];
    for (const [userNic, address, prefix, yaml] of table) {
      const seed = cloudInitSeed({ networkConfig: memberNetworkConfig(userNic, address, prefix) }, "m").seed!;
      assert.strictEqual(rootEntries(seed.image, 17).find((e) => e.name === "network-config")!.data.toString(), yaml, address);
      // Read back as YAML 1.1 reads it (cloud-init's PyYAML): a MAC stays a string, not a base-60 number.
      const read = parse(yaml, { version: "1.1" });
      assert.strictEqual(read.ethernets.private0.match.macaddress, macFor(address));
      if (userNic) assert.strictEqual(read.ethernets.user0.match.macaddress, "52:54:00:12:34:56");
      assert.strictEqual(parse("m: 52:54:00:12:34:56", { version: "1.1" }).m, 1.0 * 52 * 60 ** 5 + 54 * 60 ** 4 + 0 + 12 * 60 ** 2 + 34 * 60 + 56);
    }
  });

  it("errors name the property and never echo the content", () => {
    const secret = "password: hunter2-secret";
    const r = cloudInitSeed({ userData: [secret] as never, networkConfig: 7 as never }, "v");
    assert.deepStrictEqual(r.errors.map((e) => e.property), ["cloudInit.userData", "cloudInit.networkConfig"]);
    assert.ok(r.errors.every((e) => !e.message.includes("hunter2")), r.errors.map((e) => e.message).join("; "));
    assert.strictEqual(r.seed, undefined);
  });

  it("refuses names and labels an ISO cannot hold", () => {
    assert.throws(() => buildIso("cidata", [{ name: "User Data", data: Buffer.alloc(0) }]), /file name/);
    assert.throws(() => buildIso("cidata", [{ name: "a", data: Buffer.alloc(0) }, { name: "a", data: Buffer.alloc(1) }]), /given twice/);
    assert.throws(() => buildIso("ci data", []), /volume id/);
  });
});
