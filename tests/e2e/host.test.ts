/** Host and HostCapabilities in a Pulumi program, through the real CLI. */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import { PROBE_CACHE_DIR } from "../../provider/layout";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { parsePinnedKey } from "../../provider/transport/hostKey";
import { Host, HostCapabilities } from "../../sdk";
import { kvmKind } from "../helpers/machine";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { capture, withStack } from "./harness";
import { skipBecause } from "../helpers/skip";

describe("e2e: Host and HostCapabilities (real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const bed = testbed();
  const h2 = bed.hosts[1];
  const key = readFileSync(bed.clientKey, "utf8");
  const keyLine = key.split("\n")[1];
  const direct = () => sshTransport(sshOptionsFor(h2));
  after(() => closeAllSshTransports());

  let recommended: string | undefined;
  it("preview touches nothing; up reports; refresh is steady, then sees the host change; destroy", async () => {
    const workDir = `${h2.workDir}/e2e-host-${randomBytes(4).toString("hex")}`;
    const program = async () => {
      const host = new Host("h2", { address: h2.address, user: bed.rootUser, privateKey: key, hostKey: h2.hostKey, workDir });
      const caps = new HostCapabilities("h2-caps", { host: host.connection });
      return {
        fingerprint: host.hostKeyFingerprint, qemu: host.qemu, connection: host.connection,
        recommended: caps.recommended, accelerators: caps.accelerators,
      };
    };
    await withStack("host", program, async (h) => {
      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual(preview.changeSummary, { create: 3 });
      assert.match(h.output(), /pulumi-nodejs:dynamic\/qemu:Host|qemu:Host/);
      assert.strictEqual((await direct().exec(["test", "-e", workDir])).exitCode, 1, "preview must not touch the host");

      const up = await h.stack.up(capture(h));
      assert.deepStrictEqual(up.summary.resourceChanges, { create: 3 });
      assert.strictEqual(up.outputs.fingerprint.value, parsePinnedKey(h2.hostKey).fingerprint);
      assert.strictEqual(up.outputs.connection.secret, true);
      recommended = up.outputs.recommended.value;
      const tcg = (accs: Array<{ name: string; usable: boolean; reason: string }>) => accs.find((a) => a.name === "tcg")!;
      assert.strictEqual(tcg(up.outputs.accelerators.value).usable, true);

      await h.stack.preview({ expectNoChanges: true, ...capture(h) });
      const steady = await h.stack.refresh(capture(h));
      assert.deepStrictEqual(steady.summary.resourceChanges, { same: 3 });

      const cacheFile = `${workDir}/${PROBE_CACHE_DIR}/tcg.json`;
      const cached = JSON.parse((await direct().readFile(cacheFile)).toString());
      await direct().writeFile(cacheFile, JSON.stringify({ ...cached, usable: false, reason: "planted by the e2e test" }));
      // The engine judges refresh drift with the provider's diff of inputs against the new
      // outputs; a report is all outputs, so the refresh counts as "same" but stores the new report
      // (in the resource's state; the stack's exports change on the next up).
      await h.stack.refresh(capture(h));
      const exported = await h.stack.exportStack();
      const report = exported.deployment.resources.find((r: { type: string }) => r.type.endsWith("qemu:HostCapabilities")).outputs;
      assert.match(tcg(report.accelerators).reason, /planted by the e2e test/);
      assert.strictEqual(report.recommended, undefined);
      const again = await h.stack.up(capture(h));
      assert.strictEqual(again.outputs.recommended?.value, undefined);

      const state = readFileSync(h.stateFile, "utf8");
      assert.match(state, /pulumi-nodejs:dynamic\/qemu:HostCapabilities/);
      assert.ok(!state.includes(keyLine), "the private key is in the state in clear text");
      assert.ok(!h.output().includes(keyLine), "the private key was printed");

      const destroyed = await h.stack.destroy(capture(h));
      assert.deepStrictEqual(destroyed.summary.resourceChanges, { delete: 3 });
      await direct().exec(["rm", "-rf", "--", workDir]);
    });
  });

  it(`the Host's capability report recommends what this machine's KVM (${kvmKind()}) allows`, function () {
    if (kvmKind() === "unknown") skipBecause(this, "/dev/kvm is served by a module these tests do not know: no truth to compare with");
    assert.ok(recommended, "the up above did not report");
    // The test hosts share this machine's kernel: as root, kvm is what the machine's KVM is.
    assert.strictEqual(recommended, kvmKind() === "hardware" ? "kvm" : "tcg");
  });
});
