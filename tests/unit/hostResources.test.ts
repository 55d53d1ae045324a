/** Host and HostCapabilities: check (per-property failures, nothing touched) and diff tables. */
import * as assert from "assert";
import * as host from "../../provider/resources/host";
import * as caps from "../../provider/resources/hostCapabilities";
import { configureFrom } from "../../provider/resources/stackConfig";
import { UNKNOWN } from "../../provider/resources/types";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const ssh = { address: "10.0.0.5", user: "ops", privateKey: "k", hostKey: KEY };

describe("Host check", () => {
  const cases: Array<[string, host.HostInputs, string | undefined]> = [
    ["local machine by default", {}, undefined],
    ["an SSH host", ssh, undefined],
    ["SSH without a user", { ...ssh, user: undefined }, "user"],
    ["SSH without credentials", { ...ssh, privateKey: undefined }, "privateKey"],
    ["SSH without host-key verification", { ...ssh, hostKey: undefined }, "hostKey"],
    ["SSH port out of range", { ...ssh, port: 70000 }, "port"],
    ["SSH option on the local machine", { privateKey: "k" }, "privateKey"],
    ["relative working directory", { workDir: "vms" }, "workDir"],
    ["memory overcommitted 1.5x", { memoryOvercommit: 1.5 }, undefined],
    ["memory overcommit of 0", { memoryOvercommit: 0 }, "memoryOvercommit"],
    ["memory overcommit as text", { ...ssh, memoryOvercommit: "2" as unknown as number }, "memoryOvercommit"],
    ["jump host without a user", { ...ssh, jumpHosts: [{ host: "j", user: "", privateKey: "k", hostKey: KEY }] }, "jumpHosts[0].user"],
  ];
  for (const [what, inputs, property] of cases) {
    it(`${what}: ${property ? `fails on ${property}` : "passes"}`, async () => {
      const result = await host.check({}, inputs);
      if (!property) return assert.deepStrictEqual(result, { inputs });
      assert.strictEqual(result.failures?.[0].property, property, JSON.stringify(result));
      assert.ok(result.failures![0].reason.length > 10);
    });
  }
  it("reports the failures of several properties at once", async () => {
    const result = await host.check({}, { privateKey: "k", workDir: "rel" });
    assert.deepStrictEqual(result.failures?.map((f) => f.property), ["privateKey", "workDir"]);
  });
});

describe("Host diff", () => {
  const connection = { kind: "ssh", host: "10.0.0.5", user: "ops", privateKey: "k", hostKey: KEY, workDir: "/home/ops/.pulumi-qemu" };
  const olds = { ...ssh, workDir: "/home/ops/.pulumi-qemu", workDirIsDefault: true, os: "Linux", connection } as unknown as host.HostOutputs;
  const cases: Array<[string, host.HostInputs, { changes: boolean; replaces: string[] }]> = [
    ["same inputs (default workDir)", ssh, { changes: false, replaces: [] }],
    ["port 22 made explicit", { ...ssh, port: 22 }, { changes: false, replaces: [] }],
    ["another address", { ...ssh, address: "10.0.0.6" }, { changes: true, replaces: ["address"] }],
    ["another user", { ...ssh, user: "root" }, { changes: true, replaces: ["user"] }],
    ["another port", { ...ssh, port: 2222 }, { changes: true, replaces: ["port"] }],
    ["an explicit workDir", { ...ssh, workDir: "/srv/vms" }, { changes: true, replaces: ["workDir"] }],
    ["a new private key", { ...ssh, privateKey: "k2" }, { changes: true, replaces: [] }],
    ["the local machine instead", {}, { changes: true, replaces: ["address", "port", "user"] }],
  ];
  for (const [what, news, expected] of cases) {
    it(what, async () => assert.deepStrictEqual(await host.diff("id", olds, news), expected));
  }

  // The stack's secret credentials are read when connecting, never inputs: the connection shows them.
  const { privateKey: _own, ...noKey } = ssh;
  const configured = { ...olds, privateKey: undefined, connection: { ...connection, privateKey: "config key" } } as unknown as host.HostOutputs;
  const configCases: Array<[string, string | undefined, { changes: boolean; replaces: string[] }]> = [
    ["the stack's qemu:privateKey unchanged: no change", "config key", { changes: false, replaces: [] }],
    ["unchanged, with the serialized provider beside the inputs: no change", "config key", { changes: false, replaces: [] }],
    ["the stack's qemu:privateKey rotated: update in place", "rotated config key", { changes: true, replaces: [] }],
  ];
  for (const [what, configKey, expected] of configCases) {
    it(what, async () => {
      configureFrom({ host: "ops@10.0.0.5", privateKey: configKey });
      try {
        const withProvider = what.includes("serialized provider");
        const [o, n] = withProvider ? [{ ...configured, __provider: "p" }, { ...noKey, __provider: "p" }] : [configured, noKey];
        assert.deepStrictEqual(await host.diff("id", o as host.HostOutputs, n as host.HostInputs), expected);
      } finally {
        configureFrom({});
      }
    });
  }
});

describe("HostCapabilities check and diff", () => {
  const conn = { kind: "local" as const, workDir: "/var/lib/q" };
  it("requires the host's working directory", async () => {
    const r = await caps.check({}, { host: { kind: "local" } as never });
    assert.strictEqual(r.failures?.[0].property, "host.workDir");
  });
  it("names the SSH option that is wrong inside host", async () => {
    const r = await caps.check({}, { host: { kind: "ssh", host: "h", user: "u", privateKey: "k", workDir: "/w" } as never });
    assert.strictEqual(r.failures?.[0].property, "host.hostKey");
  });
  it("during preview, an unknown host is not judged yet (and diff says it may change)", async () => {
    assert.deepStrictEqual(await caps.check({}, { host: UNKNOWN as never }), { inputs: { host: UNKNOWN } });
    const olds = { host: conn, guestArch: "x86_64", hostFacts: { arch: "x86_64" } } as never;
    assert.strictEqual((await caps.diff("id", olds, { host: { ...conn, workDir: UNKNOWN } })).changes, true);
  });
  it("refuses reprobe that is not a boolean", async () => {
    const r = await caps.check({}, { host: conn, reprobe: "false" as never });
    assert.deepStrictEqual(r.failures?.map((f) => f.property), ["reprobe"]);
  });
  it("refuses a guest architecture that is not a name", async () => {
    const r = await caps.check({}, { host: conn, guestArch: "x86; rm -rf /" });
    assert.strictEqual(r.failures?.[0].property, "guestArch");
  });
  const olds = { host: conn, guestArch: "x86_64", hostFacts: { arch: "x86_64" } } as unknown as caps.HostCapabilitiesOutputs;
  const cases: Array<[string, caps.HostCapabilitiesInputs, boolean]> = [
    ["same host, default arch", { host: conn }, false],
    ["arch given as the host's", { host: conn, guestArch: "x86_64" }, false],
    ["another guest arch", { host: conn, guestArch: "aarch64" }, true],
    ["another host directory", { host: { ...conn, workDir: "/other" } }, true],
    ["reprobe switched on", { host: conn, reprobe: true }, true],
    ["the same host reached with another key", { host: { ...conn, privateKey: "a rotated key" } as never }, true],
  ];
  for (const [what, news, changes] of cases) {
    it(`${what}: ${changes ? "update" : "no change"}, never replace`, async () =>
      assert.deepStrictEqual(await caps.diff("id", olds, news), { changes, replaces: [] }));
  }
});
