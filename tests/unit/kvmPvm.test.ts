/**
 * The kvm_pvm host (a /dev/kvm that runs simple code but not standard Linux guests), from what
 * was recorded on such machines: ../shared/recordings/linux-x86_64-kvm-pvm/ (copied as
 * fixtures/hosts/kvm-pvm/shared-*) and this project's own probe runner run on one (kvm-pvm/*.json).
 */
import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { DETECTORS, kvmVendorModule, recommend } from "../../provider/host/accelerators/detectors";
import { judgeProbe, type ProbeOutcome } from "../../provider/host/accelerators/longModeProbe";
import { probeHung, PROBE_HUNG_LINE } from "../../provider/host/accelerators/probeRunner";
import { EXIT } from "../../provider/transport/hostScript";
import type { AcceleratorName } from "../../provider/host/accelerators/types";
import { parseFacts, type HostFacts } from "../../provider/host/facts";
import { qemuMessages, qemuWords } from "../../provider/qemu/messages";

const FIXTURES = path.join(__dirname, "../../../tests/unit/fixtures/hosts");
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");
const recordedRun = (name: string) => {
  const r = JSON.parse(fixture(`kvm-pvm/${name}`)) as { stdout: string; stderr: string; exitCode: number };
  return { ...r, timedOut: probeHung(r.exitCode, r.stderr) };
};
const reports = (facts: HostFacts, probes: Partial<Record<AcceleratorName, ProbeOutcome>>) =>
  Object.fromEntries(DETECTORS.map(([name, detect]) => [name, detect(facts, probes[name])]));

describe("kvm_pvm: the probe tells a KVM that runs standard guests from one that does not", () => {
  it("the recorded kvm run stops at the cmpxchg16b step, in QEMU's words, without the register dump", () => {
    const r = judgeProbe(recordedRun("probe-kvm.json"));
    assert.strictEqual(r.usable, false);
    assert.strictEqual(r.reason, "QEMU stopped the probe guest (run state internal-error) at its first write to a fresh page, " +
      "a lock cmpxchg16b (as Linux's SLUB allocator does early in boot): KVM internal error. Suberror: 1 emulation failure");
  });

  it("the recorded tcg run on the same machine passes every step", () => {
    assert.deepStrictEqual(judgeProbe(recordedRun("probe-tcg.json")), { usable: true });
  });

  it("a probe the runner ended for hanging is judged as hung, not as QEMU's exit", () => {
    const run = { stdout: "RPL", stderr: `${PROBE_HUNG_LINE}\n`, exitCode: EXIT.PROBE_HUNG };
    assert.strictEqual(probeHung(run.exitCode, run.stderr), true);
    assert.strictEqual(probeHung(EXIT.PROBE_HUNG, ""), false, "QEMU's own exit 124 is not a hang");
    assert.match(judgeProbe({ ...run, timedOut: true }).reason!, /^the probe guest hung at its first write to a fresh page/);
  });

  it("QEMU's words in the recorded log of the Linux guest: no run-state line, register or raw data", () => {
    const log = fixture("kvm-pvm/shared-guest-under-kvm.qemu-log.txt");
    assert.deepStrictEqual(qemuMessages(log), [
      "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]",
      "KVM internal error. Suberror: 1",
      "emulation failure",
      "qemu-system-x86_64: terminating on signal 15 from pid 7073 (bash)",
    ]);
    assert.strictEqual(qemuWords(log), "KVM internal error. Suberror: 1 emulation failure");
  });

  it("the module that serves /dev/kvm", () => {
    const table: Array<[string[], string | undefined]> = [
      [["kvm", "kvm_pvm"], "kvm_pvm"], [["kvm", "kvm_intel"], "kvm_intel"], [["kvm", "kvm_amd"], "kvm_amd"],
      [["kvm_pvm", "kvm_intel"], "kvm_intel"], [["kvm"], undefined], [[], undefined],
    ];
    for (const [modules, expected] of table) {
      assert.strictEqual(kvmVendorModule({ ...parseFacts(""), kernelModules: modules }), expected, modules.join(","));
    }
  });

  it("kvm_pvm host (facts by this project's script): kvm not usable, naming the module and the step; tcg recommended", () => {
    const facts = parseFacts(fixture("kvm-pvm/facts.txt"));
    assert.deepStrictEqual(facts.kernelModules, ["kvm", "kvm_pvm"]);
    const r = reports(facts, { kvm: judgeProbe(recordedRun("probe-kvm.json")), tcg: judgeProbe(recordedRun("probe-tcg.json")) });
    assert.deepStrictEqual([r.kvm.present, r.kvm.accessible, r.kvm.qemuSupports, r.kvm.usable], [true, true, true, false]);
    assert.match(r.kvm.reason, /lock cmpxchg16b/);
    assert.match(r.kvm.reason, /KVM internal error\. Suberror: 1 emulation failure; \/dev\/kvm is served by kvm_pvm .*not by kvm_intel or kvm_amd: .*use tcg/);
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "tcg");
  });

  it("the shared recording (an older facts script, no kvm_pvm line): still not usable from the probe; tcg recommended", () => {
    const facts = parseFacts(fixture("kvm-pvm/shared-facts.txt"));
    const r = reports(facts, { kvm: judgeProbe(recordedRun("probe-kvm.json")), tcg: { usable: true } });
    assert.strictEqual(r.kvm.usable, false);
    assert.doesNotMatch(r.kvm.reason, /served by/, "the module cannot be named from facts that lack it");
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "tcg");
    const before = JSON.parse(fixture("kvm-pvm/shared-probe-report-before.json"));
    assert.strictEqual(before.recommended, "kvm", "the recording is of the wrong verdict this suite corrects");
  });

  it("a kvm_pvm whose probe passes stays usable, with a note that only a running guest tells", () => {
    const r = reports(parseFacts(fixture("kvm-pvm/facts.txt")), { kvm: { usable: true }, tcg: { usable: true } });
    assert.strictEqual(r.kvm.usable, true);
    assert.match(r.kvm.notes.join(" "), /served by kvm_pvm.*only a running guest tells/);
  });

  it("a host with hardware KVM (kvm_intel, vmx; composed, not recorded): the probe passes, kvm recommended, no module note", () => {
    const facts = parseFacts(fixture("linux-x86_64-kvm-intel.txt"));
    const hardware = { stdout: "RPLC\n", stderr: "runstate_set current_run_state 6 (prelaunch) new_state 9 (running)\n", exitCode: 67, timedOut: false };
    const r = reports(facts, { kvm: judgeProbe(hardware), tcg: { usable: true } });
    assert.deepStrictEqual([r.kvm.present, r.kvm.usable, r.kvm.reason, r.kvm.notes], [true, true, "", []]);
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "kvm");
  });
});
