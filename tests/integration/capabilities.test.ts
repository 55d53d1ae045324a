/** The real probe, on this machine and over SSH on the testbed hosts. */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { probeHost } from "../../provider/host/capabilities";
import { PROBE_CACHE_DIR } from "../../provider/layout";
import { closeAllSshTransports, LocalTransport, sshTransport } from "../../provider/transport";
import { kvmKind } from "../helpers/machine";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { skipBecause } from "../helpers/skip";

const CLI = path.join(__dirname, "../../provider/cli.js");

describe("host capabilities (real probe)", function () {
  this.timeout(120000);
  const bed = testbed();
  const h3 = bed.hosts[2];
  const localDir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-caps-"));
  after(() => rmSync(localDir, { recursive: true, force: true }));
  after(() => closeAllSshTransports());

  it(`on this machine (kvm: ${kvmKind()}): the verdict, its reason and the recommendation are the machine's truth`, async function () {
    const kind = kvmKind();
    const report = await probeHost(new LocalTransport(), { workDir: localDir });
    const kvm = report.accelerators.find((a) => a.name === "kvm")!;
    const tcg = report.accelerators.find((a) => a.name === "tcg")!;
    assert.strictEqual(tcg.usable, true, tcg.reason);
    if (kind === "unknown") skipBecause(this, "/dev/kvm is served by a module these tests do not know: no truth to compare with");
    assert.strictEqual(kvm.present, kind !== "none");
    assert.strictEqual(kvm.usable, kind === "hardware", kvm.reason);
    assert.strictEqual(report.recommended, kind === "hardware" ? "kvm" : "tcg");
    if (kind === "none") assert.match(kvm.reason, /\/dev\/kvm does not exist/);
    if (kind === "kvm_pvm") {
      // Ended by the runner as soon as QEMU stopped the guest, not after a timeout; the module and the step named.
      assert.match(kvm.reason, /^a probe guest did not run under kvm: QEMU stopped the probe guest \(run state internal-error\) at its first write to a fresh page, a lock cmpxchg16b/);
      assert.match(kvm.reason, /emulation failure; \/dev\/kvm is served by kvm_pvm/);
    }
  });

  it("caches the probe on the host, and re-runs it when asked", async () => {
    const cacheFile = path.join(localDir, PROBE_CACHE_DIR, "tcg.json");
    await probeHost(new LocalTransport(), { workDir: localDir });
    const first = execFileSync("stat", ["-c", "%Y.%Z %i", cacheFile]).toString();
    await new Promise((r) => setTimeout(r, 1100));
    await probeHost(new LocalTransport(), { workDir: localDir });
    assert.strictEqual(execFileSync("stat", ["-c", "%Y.%Z %i", cacheFile]).toString(), first, "a cached probe was run again");
    await probeHost(new LocalTransport(), { workDir: localDir, reprobe: true });
    assert.notStrictEqual(execFileSync("stat", ["-c", "%Y.%Z %i", cacheFile]).toString(), first, "reprobe did not run the probe");
  });

  it(`over SSH as ${bed.plainUser} (not in the kvm group): the report is the user's, tcg usable`, async () => {
    const t = sshTransport(sshOptionsFor(h3, { user: bed.plainUser }));
    const report = await probeHost(t, { workDir: h3.workDir, reprobe: true });
    assert.strictEqual(report.host.user, bed.plainUser);
    const kvm = report.accelerators.find((a) => a.name === "kvm")!;
    assert.strictEqual(kvm.accessible, false);
    assert.match(kvm.reason, /does not exist|cannot read and write \/dev\/kvm/);
    assert.strictEqual(report.accelerators.find((a) => a.name === "tcg")!.usable, true);
    assert.strictEqual(report.recommended, "tcg");
  });

  it("a foreign guest architecture is recommended tcg", async () => {
    const report = await probeHost(new LocalTransport(), { workDir: localDir, guestArch: "aarch64" });
    assert.strictEqual(report.guestArch, "aarch64");
    assert.strictEqual(report.recommended, "tcg");
  });

  it("pulumi-qemu probe --json over ssh:// prints the same report", () => {
    const h1 = bed.hosts[0];
    const out = execFileSync("node", [CLI, "probe", `ssh://${bed.rootUser}@${h1.address}`, "--json",
      "--identity", bed.clientKey, "--host-key", h1.hostKey, "--work-dir", h1.workDir]).toString();
    const report = JSON.parse(out);
    assert.strictEqual(report.host.user, "root");
    sshReport = report;
  });

  let sshReport: { recommended: string } | undefined;
  it(`pulumi-qemu probe over ssh:// recommends what this machine's KVM (${kvmKind()}) allows`, function () {
    if (kvmKind() === "unknown") skipBecause(this, "/dev/kvm is served by a module these tests do not know: no truth to compare with");
    assert.ok(sshReport, "the probe above did not run");
    // The test hosts share this machine's kernel: as root, kvm is what the machine's KVM is.
    assert.strictEqual(sshReport.recommended, kvmKind() === "hardware" ? "kvm" : "tcg");
  });

  it("pulumi-qemu rejects bad arguments with exit code 2 and the usage", () => {
    const r = spawnSync("node", [CLI, "probe", "--nope"]);
    assert.strictEqual(r.status, 2);
    assert.match(r.stderr.toString(), /unknown argument "--nope"[\s\S]*usage: pulumi-qemu probe/);
  });
});
