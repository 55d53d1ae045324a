/**
 * Issue 18, class 2: the cloud-init seed is named by an HMAC keyed with the VM's secret seed key,
 * never by a plain hash of its content (reversible by guessing a short password); a VM an older
 * release made keeps its plain hash, without a restart, until its seed changes.
 */
import * as assert from "assert";
import { createHash, createHmac } from "crypto";
import { cloudInitSeed } from "../../provider/cloudInit/seed";
import * as vm from "../../provider/resources/vm";
import { instanceIdKey, SEED_KEY_V2, vmSpec, type VmInputs } from "../../provider/vm/spec";

const host = { kind: "local" as const, workDir: "/w" };
const userData = "#cloud-config\npassword: hunter2\n";
const base: VmInputs = { host, name: "web", memory: "256M", cloudInit: { userData } };
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("the cloud-init seed's digest", () => {
  const image = cloudInitSeed({ userData }, "web").seed!.image;
  const plainHashes = [sha256(image), sha256(userData), sha256("hunter2")];

  it("with a seed key: an HMAC, none of the plain hashes of the image, the user-data or the password", () => {
    const spec = vmSpec({ ...base, seedKey: "k1" }).spec;
    const text = JSON.stringify(spec);
    assert.match(spec.cloudInit?.hmacSha256 ?? "", /^[0-9a-f]{64}$/);
    for (const h of plainHashes) assert.ok(!text.includes(h.slice(0, 16)), `a plain hash in the spec: ${h}`);
  });
  it("another key, another digest; the same key and seed, the same digest", () => {
    const digest = (seedKey: string) => vmSpec({ ...base, seedKey }).spec.cloudInit?.hmacSha256;
    assert.notStrictEqual(digest("k1"), digest("k2"));
    assert.strictEqual(digest("k1"), digest("k1"));
  });

  const keyed = { ...base, seedKey: "k1", spec: vmSpec({ ...base, seedKey: "k1" }).spec, status: "running", statusDetail: "" } as unknown as vm.VmOutputs;
  const legacy = { ...base, spec: vmSpec(base).spec, status: "running", statusDetail: "" } as unknown as vm.VmOutputs;
  const cases: Array<[string, vm.VmOutputs, Partial<VmInputs>, boolean]> = [
    ["keyed, the same seed: no change (the recorded key judges the new inputs)", keyed, {}, false],
    ["keyed, another user-data: update (restart)", keyed, { cloudInit: { userData: `${userData}#\n` } }, true],
    ["made by an older release (plain sha256, no key), the same seed: no change, no restart", legacy, {}, false],
    ["made by an older release, another user-data: update", legacy, { cloudInit: { userData: `${userData}#\n` } }, true],
  ];
  for (const [what, olds, news, changes] of cases) {
    it(what, async () => assert.strictEqual((await vm.diff("id", olds, { ...base, ...news })).changes, changes));
  }
});

describe("the cloud-init instance-id (issue 28: the guest reads it)", () => {
  const content = JSON.stringify([userData, null, "{}\n"]);
  const v2 = `${SEED_KEY_V2}${"ab".repeat(32)}`;
  const idOf = (key?: string) => cloudInitSeed({ userData }, "web", "cloudInit", key).seed!.instanceId;

  it("with a key of this release: an HMAC of the seed, not its plain hash; another key, another id", () => {
    assert.strictEqual(idOf(v2), `web-${createHmac("sha256", v2).update(content).digest("hex").slice(0, 12)}`);
    assert.notStrictEqual(idOf(v2), `web-${sha256(content).slice(0, 12)}`);
    assert.notStrictEqual(idOf(v2), idOf(`${SEED_KEY_V2}other`));
    assert.strictEqual(vmSpec({ ...base, seedKey: v2 }).errors.length, 0);
  });

  // A key an earlier release made (no "v2:"): its instance-id was the plain hash.
  const oldKey = "cd".repeat(32);
  const made = { ...base, seedKey: oldKey, spec: vmSpec({ ...base, seedKey: oldKey }).spec, status: "running", statusDetail: "" } as unknown as vm.VmOutputs;
  it("a VM with an earlier release's key, the same seed: no change, its key (and plain instance-id) kept", async () => {
    assert.strictEqual(idOf(instanceIdKey(oldKey)), `web-${sha256(content).slice(0, 12)}`);
    assert.strictEqual((await vm.diff("id", made, base)).changes, false);
    assert.strictEqual(vm.seedKeyFor(made, base), oldKey);
  });
  it("a VM with an earlier release's key, another seed: a key of this release", () => {
    const key = vm.seedKeyFor(made, { ...base, cloudInit: { userData: `${userData}#\n` } });
    assert.match(key ?? "", /^v2:[0-9a-f]{64}$/);
  });
  it("a new VM gets a key of this release", async () => {
    const made = await vm.check({}, base);
    assert.ok(made.inputs, "valid");
    assert.match(vm.seedKeyFor({ ...base, status: "stopped", statusDetail: "" } as unknown as vm.VmOutputs, base) ?? "", /^v2:/);
  });
});
