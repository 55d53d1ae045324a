/** The aarch64 functional probe, run for real under TCG (qemu-system-aarch64 7.2 here). */
import * as assert from "assert";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { AARCH64_PROBE_IMAGE, aarch64ProbeArgv, judgeAarch64Probe } from "../../provider/host/accelerators/aarch64Probe";
import { LocalTransport } from "../../provider/transport";

describe("the aarch64 probe (real QEMU, TCG)", function () {
  this.timeout(60000);
  const dir = mkdtempSync(path.join(tmpdir(), "pq-a64-"));
  const local = new LocalTransport();
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function run(image: Buffer, accelerator = "tcg") {
    const file = path.join(dir, `probe-${Math.random().toString(16).slice(2)}.rom`);
    writeFileSync(file, image);
    try {
      return judgeAarch64Probe({ ...await local.exec(aarch64ProbeArgv("qemu-system-aarch64", accelerator, file), { timeoutMs: 3000 }), timedOut: false });
    } catch (e) {
      if ((e as { code?: string }).code !== "TIMEOUT") throw e;
      return judgeAarch64Probe({ stdout: "", stderr: "", exitCode: null, timedOut: true });
    }
  }

  it("prints its marker and powers off through PSCI: usable", async () => {
    assert.deepStrictEqual(await run(AARCH64_PROBE_IMAGE), { usable: true });
  });

  it("a guest that never powers off (the hvc replaced by a branch to itself) is not usable", async () => {
    const hang = Buffer.from(AARCH64_PROBE_IMAGE);
    hang.writeUInt32LE(0x14000000, 9 * 4);
    const r = await run(hang);
    assert.strictEqual(r.usable, false);
    assert.match(r.reason!, /hung/);
  });

  it("an accelerator this machine lacks: QEMU's own words", async () => {
    const r = await run(AARCH64_PROBE_IMAGE, "kvm");
    assert.strictEqual(r.usable, false);
    assert.match(r.reason!, /kvm/i);
  });
});
