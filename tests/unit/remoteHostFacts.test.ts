/**
 * macOS and Windows hosts judged from their facts (fixtures/hosts/README.md says where each
 * value comes from: none is a raw recording of the facts script).
 */
import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { DETECTORS, recommend } from "../../provider/host/accelerators/detectors";
import type { AcceleratorName } from "../../provider/host/accelerators/types";
import { nativeQemu, parseFacts, type HostFacts } from "../../provider/host/facts";
import { parseWindowsFacts } from "../../provider/host/windowsFacts";

const fixture = (name: string) => readFileSync(path.join(__dirname, "../../../tests/unit/fixtures/hosts", name), "utf8");
const mac = (name: string) => parseFacts(fixture(name));
const win = (name: string) => parseWindowsFacts(fixture(name));
const judged = (facts: HostFacts, usable: AcceleratorName[] = []) =>
  Object.fromEntries(DETECTORS.map(([name, detect]) => [name, detect(facts, usable.includes(name) ? { usable: true } : undefined)]));

describe("macOS hosts", () => {
  it("Apple Silicon: arm64, hvf present and supported by Homebrew's QEMU, firmware found", () => {
    const f = mac("macos-arm64-hvf.txt");
    assert.strictEqual(f.arch, "arm64");
    assert.strictEqual(f.appleSilicon, true);
    assert.strictEqual(nativeQemu(f)?.path, "/opt/homebrew/bin/qemu-system-aarch64");
    assert.strictEqual(f.firmwareAarch64, "/opt/homebrew/share/qemu/edk2-aarch64-code.fd");
    const r = judged(f, ["hvf", "tcg"]);
    assert.deepStrictEqual([r.hvf.present, r.hvf.qemuSupports, r.hvf.usable], [true, true, true]);
    assert.match(r.hvf.notes.join(" "), /aarch64 guests only/);
    assert.match(r.kvm.reason, /only on Linux hosts; this host runs Darwin/);
    assert.match(r.whpx.reason, /only on Windows hosts/);
    assert.strictEqual(recommend(Object.values(r), "aarch64", "aarch64"), "hvf");
    assert.strictEqual(recommend(Object.values(r), "aarch64", "x86_64"), "tcg", "hvf never serves another architecture");
  });

  it("a shell under Rosetta 2 is judged for the Mac's own arm64, and a QEMU without hvf says so", () => {
    const f = mac("macos-arm64-rosetta-no-hvf-build.txt");
    assert.strictEqual(f.arch, "arm64", "uname -m said x86_64 under Rosetta");
    assert.strictEqual(f.translated, true);
    const r = judged(f);
    assert.strictEqual(r.hvf.usable, false);
    assert.match(r.hvf.reason, /qemu-system-aarch64 \(QEMU 6\.0\.0\) was built without hvf: `-accel help` lists tcg/);
    assert.match(r.hvf.notes.join(" "), /Rosetta 2/);
  });

  it("Intel Mac: hvf for x86_64 guests", () => {
    const f = mac("macos-x86_64-intel.txt");
    const r = judged(f, ["hvf", "tcg"]);
    assert.strictEqual(r.hvf.usable, true);
    assert.deepStrictEqual(r.hvf.notes, []);
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "hvf");
  });
});

describe("Windows hosts", () => {
  it("WHPX: feature enabled and hypervisor running, QEMU lists whpx", () => {
    const f = win("windows-11-whpx.json");
    assert.deepStrictEqual([f.os, f.arch, f.home, f.cores], ["Windows", "x86_64", "C:/Users/ops", 8]);
    assert.strictEqual(nativeQemu(f)?.path, "C:\\Program Files\\qemu\\qemu-system-x86_64.exe");
    assert.deepStrictEqual(nativeQemu(f)?.accelerators, ["tcg", "whpx"]);
    const r = judged(f, ["whpx", "tcg"]);
    assert.deepStrictEqual([r.whpx.present, r.whpx.accessible, r.whpx.qemuSupports, r.whpx.usable], [true, true, true, true]);
    assert.match(r.haxm.reason, /no service intelhaxm/);
    assert.match(r.aehd.reason, /no service aehd or gvm/);
    assert.match(r.hvf.reason, /only on macOS hosts; this host runs Windows/);
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "whpx");
  });

  it("HAXM with QEMU 7.2: present, QEMU lists hax; WHPX off says how to turn it on; a one-element list as an object", () => {
    const f = win("windows-10-haxm-old-qemu.json");
    assert.strictEqual(f.qemu.length, 1);
    assert.strictEqual(f.probeCache.length, 1);
    const r = judged(f, ["haxm", "tcg"]);
    assert.deepStrictEqual([r.haxm.present, r.haxm.accessible, r.haxm.qemuSupports, r.haxm.usable, r.haxm.deprecated], [true, true, true, true, true]);
    assert.match(r.whpx.reason, /HypervisorPlatform is disabled: enable it \(Enable-WindowsOptionalFeature/);
    assert.strictEqual(recommend(Object.values(r), "x86_64", "x86_64"), "haxm");
  });

  it("HAXM running but QEMU 9.2: reported by version, not usable", () => {
    const f = win("windows-11-haxm-new-qemu.json");
    assert.strictEqual(f.windows?.services.intelhaxm, "Running", "the status came as the enum's number");
    const r = judged(f);
    assert.strictEqual(r.haxm.present && r.haxm.accessible, true);
    assert.strictEqual(r.haxm.qemuSupports, false);
    assert.match(r.haxm.reason, /QEMU 9\.2\.0; QEMU removed HAXM in 8\.2/);
    assert.match(r.whpx.reason, /HypervisorPlatform is absent/);
  });

  it("AEHD installed but stopped, and stock QEMU: both said", () => {
    const f = win("windows-11-aehd-stopped.json");
    const r = judged(f);
    assert.strictEqual(r.aehd.present, true);
    assert.strictEqual(r.aehd.accessible, false);
    assert.match(r.aehd.reason, /the service aehd is Stopped/);
    const running = { ...f, windows: { ...f.windows!, services: { aehd: "Running" } } };
    const again = judged(running).aehd;
    assert.match(again.reason, /is stock QEMU, not Google's AEHD fork: `-accel help` lists tcg, whpx/);
    const fork = { ...running, qemu: running.qemu.map((q) => ({ ...q, accelerators: ["tcg", "aehd"] })) };
    assert.strictEqual(judged(fork, ["aehd"]).aehd.usable, true);
  });

  it("a byte-order mark before the JSON is ignored", () => {
    assert.strictEqual(parseWindowsFacts("\uFEFF" + fixture("windows-11-whpx.json")).os, "Windows");
  });
});
