/** Host and HostCapabilities providers through the engine's serialize -> load path, on real sshd hosts. */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { parsePinnedKey } from "../../provider/transport/hostKey";
import { PROBE_CACHE_DIR } from "../../provider/layout";
import { hostProvider } from "../../sdk/host";
import { hostCapabilitiesProvider } from "../../sdk/hostCapabilities";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { sshOptionsFor, testbed } from "../testbed/testbed";

describe("Host and HostCapabilities providers (serialized, real hosts)", function () {
  this.timeout(120000);
  const bed = testbed();
  const [h1, , h3] = bed.hosts;
  const key = readFileSync(bed.clientKey, "utf8");
  const sshArgs = (h = h1) => ({ address: h.address, port: h.port, user: bed.rootUser, privateKey: key, hostKey: h.hostKey });
  const exists = async (path: string) => (await sshTransport(sshOptionsFor(h1)).exec(["test", "-e", path])).exitCode === 0;
  after(() => closeAllSshTransports());

  it("serialized providers stay small and hold no module, connection or key", async () => {
    for (const p of [hostProvider, hostCapabilitiesProvider]) {
      const { text } = await roundTripProvider(p);
      assert.ok(text.length < 4096, `serialized provider is ${text.length} bytes`);
      assert.doesNotMatch(text, /ssh2|PRIVATE KEY|privateKey:/);
    }
  });

  it("Host over SSH: verifies the pinned key, reports the facts, makes the default working directory", async () => {
    const { provider } = await roundTripProvider(hostProvider);
    const { id, outs } = await provider.create!(sshArgs());
    assert.strictEqual(id, `ssh://${bed.rootUser}@${h1.address}:22${outs.workDir}`);
    assert.strictEqual(outs.hostKeyFingerprint, parsePinnedKey(h1.hostKey).fingerprint);
    assert.strictEqual(outs.os, "Linux");
    assert.strictEqual(outs.workDir, "/tmp/pulumi-qemu-testbed/.pulumi-qemu", "default is $HOME/.pulumi-qemu of the SSH user");
    assert.strictEqual(outs.workDirIsDefault, true);
    assert.ok(await exists(outs.workDir));
    assert.ok(outs.qemu.some((q: { name: string; version: string }) => q.name === "qemu-system-x86_64" && /^\d+\.\d+/.test(q.version)));
    assert.ok(outs.cores >= 1 && outs.memoryBytes > 2 ** 30);
    assert.deepStrictEqual(outs.connection, { kind: "ssh", host: h1.address, port: 22, user: bed.rootUser, privateKey: key, hostKey: h1.hostKey, workDir: outs.workDir });
    const read = await provider.read!(id, outs);
    assert.deepStrictEqual(read.props, outs, "a refresh of an unchanged host changes nothing");
  });

  it("Host with the wrong host key: refused with both fingerprints, nothing made on the host", async () => {
    const { provider } = await roundTripProvider(hostProvider);
    const workDir = `${h1.workDir}/never-${randomBytes(4).toString("hex")}`;
    // Both fingerprints as OpenSSH's own ssh-keygen prints them: the pinned one (h2's) and the one h1 showed.
    const [pinned, shown] = [bed.hosts[1].hostKey, h1.hostKey].map(sshKeygenFingerprint);
    assert.notStrictEqual(pinned, shown);
    await assert.rejects(provider.create!({ ...sshArgs(), hostKey: bed.hosts[1].hostKey, workDir }), (e: Error) => {
      assert.strictEqual((e as { code?: string }).code, "HOST_KEY_MISMATCH");
      assert.ok(e.message.includes(`expected ${pinned}`), `the pinned fingerprint ${pinned} is not in: ${e.message}`);
      assert.ok(e.message.includes(`got ${shown}`), `the host's fingerprint ${shown} is not in: ${e.message}`);
      assert.ok(!e.message.includes("PRIVATE KEY"));
      return true;
    });
    assert.strictEqual(await exists(workDir), false);
  });

  it("Host refresh of an unreachable host fails and says where", async () => {
    const { provider } = await roundTripProvider(hostProvider);
    const { outs } = await provider.create!({ ...sshArgs(), workDir: h1.workDir });
    await assert.rejects(provider.read!("id", { ...outs, port: 1, connectTimeoutMs: 2000 }), new RegExp(`${h1.address}:1`));
  });

  it(`HostCapabilities as ${bed.plainUser}: report, steady refresh, and a refresh that sees the host change`, async () => {
    const hostP = (await roundTripProvider(hostProvider)).provider;
    const capsP = (await roundTripProvider(hostCapabilitiesProvider)).provider;
    const host = (await hostP.create!({ ...sshArgs(h3), user: bed.plainUser, workDir: h3.workDir })).outs;
    const { id, outs } = await capsP.create!({ host: host.connection });
    const tcg = () => (o: typeof outs) => o.accelerators.find((a: { name: string }) => a.name === "tcg");
    assert.strictEqual(tcg()(outs).usable, true, tcg()(outs).reason);
    assert.strictEqual(outs.hostFacts.user, bed.plainUser);
    assert.strictEqual(outs.accelerators.find((a: { name: string }) => a.name === "kvm").usable, false);
    const steady = await capsP.read!(id, outs);
    assert.deepStrictEqual(steady.props, outs);

    // The host changes under the report (a planted probe result with the current key): refresh shows it.
    const t = sshTransport(sshOptionsFor(h3, { user: bed.plainUser }));
    const cacheFile = `${h3.workDir}/${PROBE_CACHE_DIR}/tcg.json`;
    const cached = JSON.parse((await t.readFile(cacheFile)).toString());
    await t.writeFile(cacheFile, JSON.stringify({ ...cached, usable: false, reason: "planted by the test" }));
    try {
      const changed = (await capsP.read!(id, outs)).props!;
      assert.strictEqual(tcg()(changed).usable, false);
      assert.match(tcg()(changed).reason, /planted by the test/);
      assert.strictEqual(changed.recommended, undefined);
    } finally {
      await t.exec(["rm", "-f", cacheFile]);
    }
    const reprobed = (await capsP.read!(id, outs)).props!;
    assert.strictEqual(tcg()(reprobed).usable, true, "with the cache gone, refresh runs the probe again");
  });
});

/** The SHA256 fingerprint of an OpenSSH public key line, by ssh-keygen -lf (not the code under test). */
function sshKeygenFingerprint(keyLine: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pq-fp-"));
  try {
    writeFileSync(path.join(dir, "key.pub"), `${keyLine}\n`);
    return execFileSync("ssh-keygen", ["-lf", path.join(dir, "key.pub")]).toString().split(" ")[1];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
