import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { DETECTORS, recommend } from "../../provider/host/accelerators/detectors";
import { judgeProbe, type ProbeOutcome } from "../../provider/host/accelerators/longModeProbe";
import type { AcceleratorName } from "../../provider/host/accelerators/types";
import { parseFacts } from "../../provider/host/facts";

const facts = (name: string) => parseFacts(readFileSync(path.join(__dirname, "../../../tests/unit/fixtures/hosts", name), "utf8"));
const run = (file: string, probes: Partial<Record<AcceleratorName, ProbeOutcome>>) => {
  const f = facts(file);
  return Object.fromEntries(DETECTORS.map(([name, detect]) => [name, detect(f, probes[name])]));
};

describe("judgeProbe (outputs recorded from QEMU 7.2)", () => {
  it("passes a guest that reached long mode and exited through isa-debug-exit", () => {
    assert.deepStrictEqual(judgeProbe({ stdout: "RPLC\n", stderr: "", exitCode: 67, timedOut: false }), { usable: true });
  });
  it("fails a guest that exited 67 without its cmpxchg16b step", () => {
    assert.strictEqual(judgeProbe({ stdout: "RPL\n", stderr: "", exitCode: 67, timedOut: false }).usable, false);
  });
  it("fails a guest that exited 67 without having reached long mode", () => {
    assert.strictEqual(judgeProbe({ stdout: "RP", stderr: "", exitCode: 67, timedOut: false }).usable, false);
  });
  it("gives QEMU's words when KVM cannot start (this machine)", () => {
    const r = judgeProbe({ stdout: "", exitCode: 1, timedOut: false,
      stderr: "Could not access KVM kernel module: No such file or directory\nqemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory\n" });
    assert.deepStrictEqual(r, { usable: false, reason: "Could not access KVM kernel module: No such file or directory qemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory" });
  });
  it("reports the MSR failure QEMU gives with -cpu host (TESTBED.md)", () => {
    const r = judgeProbe({ stdout: "RP", exitCode: 1, timedOut: false, stderr: "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0\n" });
    assert.match(r.reason!, /failed to set MSR 0x10a/);
  });
  it("reports a hang with the step it hung at and QEMU's words", () => {
    const r = judgeProbe({ stdout: "RP", exitCode: null, timedOut: true, stderr: "KVM internal error. Suberror: 1\n" });
    assert.strictEqual(r.usable, false);
    assert.match(r.reason!, /hung at the switch to 64-bit long mode \(PAE paging, EFER\.LME\): KVM internal error\. Suberror: 1/);
  });
  it("ignores QEMU warnings when it names the cause", () => {
    const r = judgeProbe({ stdout: "", exitCode: 1, timedOut: false, stderr: "qemu-system-x86_64: warning: host doesn't support requested feature\nreal cause\n" });
    assert.strictEqual(r.reason, "real cause");
  });
});

describe("detectors", () => {
  it("this machine: no /dev/kvm, so kvm is not present; tcg is usable and recommended", () => {
    const r = run("linux-x86_64-no-kvm-device.txt", { tcg: { usable: true } });
    assert.deepStrictEqual([r.kvm.present, r.kvm.accessible, r.kvm.qemuSupports, r.kvm.usable], [false, false, true, false]);
    assert.match(r.kvm.reason, /^\/dev\/kvm does not exist: the kvm module is loaded but exposes no device/);
    assert.strictEqual(r.tcg.usable, true);
    assert.strictEqual(r.tcg.reason, "");
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "tcg");
  });

  it("TESTBED.md's machine: kvm present and accessible but the probe fails; the reason is QEMU's", () => {
    const r = run("linux-x86_64-kvm-device-no-vmx.txt", {
      kvm: { usable: false, reason: "the probe guest hung after reaching protected mode: KVM internal error. Suberror: 1" },
      tcg: { usable: true },
    });
    assert.deepStrictEqual([r.kvm.present, r.kvm.accessible, r.kvm.qemuSupports, r.kvm.usable], [true, true, true, false]);
    assert.match(r.kvm.reason, /KVM internal error\. Suberror: 1/);
    assert.match(r.kvm.notes.join(" "), /no vmx\/svm flag/);
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "tcg");
  });

  it("a user outside the kvm group: kvm not accessible, with the command that fixes it", () => {
    const r = run("linux-x86_64-kvm-denied.txt", { tcg: { usable: true } });
    assert.deepStrictEqual([r.kvm.present, r.kvm.accessible, r.kvm.usable], [true, false, false]);
    assert.strictEqual(r.kvm.reason,
      "pqemu-user cannot read and write /dev/kvm (root:kvm 660): add the user to the group that owns it (usermod -aG kvm pqemu-user) and log in again");
  });

  it("a usable kvm is recommended for native guests only; foreign guests get tcg", () => {
    const r = run("linux-x86_64-kvm-device-no-vmx.txt", { kvm: { usable: true }, tcg: { usable: true } });
    assert.strictEqual(r.kvm.usable, true);
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "kvm");
    assert.strictEqual(recommend(Object.values(r), "x86_64", "aarch64"), "tcg");
  });

  it("nothing probed: nothing is usable and nothing is recommended", () => {
    const r = run("linux-x86_64-no-kvm-device.txt", {});
    assert.strictEqual(r.tcg.reason, "not probed");
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), undefined);
  });

  it("flags haxm deprecated and says why whpx, aehd and hvf are absent on Linux", () => {
    const r = run("linux-x86_64-no-kvm-device.txt", {});
    assert.strictEqual(r.haxm.deprecated, true);
    assert.match(r.whpx.reason, /only on Windows hosts; this host runs Linux/);
    assert.match(r.aehd.notes.join(), /patched QEMU fork/);
    assert.match(r.hvf.reason, /only on macOS hosts/);
  });
});
