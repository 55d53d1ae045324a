/** Stack config (qemu:*) as the Host's defaults: parsing table, and what reaches a Host's inputs. */
import * as assert from "assert";
import * as host from "../../provider/resources/host";
import { configureFrom, configuredCredentials, hostDefaults } from "../../provider/resources/stackConfig";

describe("stack config defaults", () => {
  afterEach(() => configureFrom({}));
  const table: Array<[string, object]> = [
    ["local", {}],
    ["10.0.0.5", { address: "10.0.0.5" }],
    ["ops@10.0.0.5", { address: "10.0.0.5", user: "ops" }],
    ["ops@vm-host.example:2222", { address: "vm-host.example", user: "ops", port: 2222 }],
    ["ssh://ops@10.0.0.5:22/", { address: "10.0.0.5", user: "ops", port: 22 }],
    ["[fd00::5]:2200", { address: "fd00::5", port: 2200 }],
  ];
  for (const [value, expected] of table) {
    it(`qemu:host ${value}`, () => {
      configureFrom({ host: value });
      assert.deepStrictEqual(hostDefaults(), expected);
    });
  }
  for (const bad of ["ops@h:notaport", "a b", "ops@", "ssh://"]) {
    it(`qemu:host ${JSON.stringify(bad)} is refused, naming the key`, () => {
      configureFrom({ host: bad });
      assert.throws(() => hostDefaults(), /qemu:host/);
    });
  }
  it("qemu:port out of range is refused", () => {
    configureFrom({ host: "h", port: "70000" });
    assert.throws(() => hostDefaults(), /qemu:port/);
  });

  it("a Host without address takes the defaults into its inputs; the secret key stays out of them", async () => {
    configureFrom({ host: "ops@10.0.0.5", workDir: "/srv/qemu", hostKey: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", privateKey: "KEY-TEXT" });
    const r = await host.check({}, {});
    assert.deepStrictEqual(r.inputs, { address: "10.0.0.5", user: "ops", workDir: "/srv/qemu", hostKey: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" });
    assert.deepStrictEqual(configuredCredentials(), { privateKey: "KEY-TEXT" });
    // A Host that names its own address ignores the stack's host entirely.
    assert.deepStrictEqual((await host.check({}, { address: "10.9.9.9", user: "me", agent: "/run/agent", knownHostsFile: "/k" })).inputs, { address: "10.9.9.9", user: "me", agent: "/run/agent", knownHostsFile: "/k" });
    // A program value wins over the stack's.
    assert.strictEqual((await host.check({}, { workDir: "/other" })).inputs?.workDir, "/other");
  });

  it("a malformed qemu:host fails check on that key", async () => {
    configureFrom({ host: "ops@h:x" });
    const r = await host.check({}, {});
    assert.strictEqual(r.failures?.[0].property, "qemu:host");
  });
});
