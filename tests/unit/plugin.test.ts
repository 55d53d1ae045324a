/**
 * The provider plugin's pure parts: secrets on the protocol, URNs, and the inputs a resource
 * class of the TypeScript SDK would have added for a resource a YAML program declares.
 */
import * as assert from "assert";
import { concealProps, reveal, revealProps } from "../../sdk/plugin/secrets";
import { parseUrn } from "../../sdk/plugin/urn";
import { completeInputs } from "../../sdk/plugin/inputs";

const SIG = "4dabf18193072939515e22adb298388d";
const secret = (value: unknown) => ({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

describe("plugin: secrets on the provider protocol", () => {
  it("takes the marks off, deep, and names the properties that held one", () => {
    const { plain, secretKeys } = revealProps({
      host: secret({ kind: "ssh", privateKey: "K" }), name: "vm", cloudInit: { userData: secret("#cloud-config") }, disks: ["/d", secret("/s")],
    });
    assert.deepStrictEqual(plain, { host: { kind: "ssh", privateKey: "K" }, name: "vm", cloudInit: { userData: "#cloud-config" }, disks: ["/d", "/s"] });
    assert.deepStrictEqual(secretKeys.sort(), ["cloudInit", "disks", "host"]);
    assert.deepStrictEqual(reveal(secret(secret(1))), { plain: 1, secret: true });
  });

  it("puts them back on the named properties that are there, once", () => {
    const out = concealProps({ host: { a: 1 }, name: "vm", guestConnection: undefined, spec: secret("x") }, ["host", "guestConnection", "spec", "absent"]);
    assert.deepStrictEqual(out, { host: secret({ a: 1 }), name: "vm", guestConnection: undefined, spec: secret("x") });
  });

  it("round-trips: what comes in secret goes out secret", () => {
    const props = { privateKey: secret("PEM"), address: "10.0.0.1" };
    const { plain, secretKeys } = revealProps(props);
    assert.deepStrictEqual(concealProps(plain, secretKeys), props);
  });
});

describe("plugin: URNs", () => {
  const cases: [string, ReturnType<typeof parseUrn>][] = [
    ["urn:pulumi:dev::lab::qemu:index:Vm::web", { stack: "dev", project: "lab", type: "qemu:index:Vm", name: "web" }],
    ["urn:pulumi:ci-1::lab::qemu:index:Fleet$qemu:index:Vm::ci-0", { stack: "ci-1", project: "lab", type: "qemu:index:Vm", name: "ci-0" }],
    ["urn:pulumi:dev::lab::qemu:index:Disk::a::b", { stack: "dev", project: "lab", type: "qemu:index:Disk", name: "a::b" }],
  ];
  for (const [urn, want] of cases) it(urn, () => assert.deepStrictEqual(parseUrn(urn), want));
  it("refuses what is not a URN", () => assert.throws(() => parseUrn("qemu:index:Vm::web"), /not a resource URN/));
});

describe("plugin: inputs a YAML program leaves to the SDK's classes", () => {
  const urn = (type: string) => parseUrn(`urn:pulumi:dev::lab::qemu:index:${type}::web`);
  const owner = { project: "lab", stack: "dev", resource: "web" };
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["Vm", { memory: "1G" }, { memory: "1G", name: "web", owner }],
    ["Vm", { name: "other", owner: { project: "p", stack: "s", resource: "r" } }, { name: "other", owner: { project: "p", stack: "s", resource: "r" } }],
    ["Disk", { size: "1G" }, { size: "1G", name: "web", owner }],
    ["Network", {}, { name: "web", owner }],
    ["Snapshot", {}, { name: "web" }],
    ["Image", {}, { owner }],
    ["WarmState", {}, { owner }],
    ["Host", { address: "h" }, { address: "h" }],
    ["HostCapabilities", {}, {}],
  ];
  for (const [type, news, want] of cases) it(`${type} ${JSON.stringify(news)}`, () => assert.deepStrictEqual(completeInputs(urn(type), news), want));
});
