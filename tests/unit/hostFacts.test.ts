import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { nativeQemu, parseFacts } from "../../provider/host/facts";

const fixture = (name: string) => readFileSync(path.join(__dirname, "../../../tests/unit/fixtures/hosts", name), "utf8");

describe("parseFacts", () => {
  it("reads this machine's recording", () => {
    const f = parseFacts(fixture("linux-x86_64-no-kvm-device.txt"));
    assert.strictEqual(f.os, "Linux");
    assert.strictEqual(f.arch, "x86_64");
    assert.strictEqual(f.cores, 2);
    assert.strictEqual(f.memoryBytes, 25276026880);
    assert.strictEqual(f.kvmDevice, "absent");
    assert.deepStrictEqual(f.kernelModules, ["kvm"]);
    assert.deepStrictEqual(f.cpuVirtFlags, []);
    assert.deepStrictEqual(f.qemu.map((q) => q.name), ["qemu-system-i386", "qemu-system-x86_64", "qemu-system-x86_64-microvm"]);
    assert.deepStrictEqual(nativeQemu(f), { name: "qemu-system-x86_64", path: "/usr/bin/qemu-system-x86_64", version: "7.2.22", accelerators: ["tcg", "kvm"] });
    assert.strictEqual(f.probeCache.length, 1);
    assert.strictEqual(f.probeCache[0].usable, true);
  });

  it("keeps going past a damaged cache line and unknown keys", () => {
    const f = parseFacts("os=Linux\narch=aarch64\nprobe_cache={not json\nsomething_new=1\nqemu.qemu-system-aarch64.path=/usr/bin/qemu-system-aarch64\n");
    assert.deepStrictEqual(f.probeCache, []);
    assert.strictEqual(nativeQemu(f)?.path, "/usr/bin/qemu-system-aarch64");
    assert.strictEqual(nativeQemu(f)?.version, "");
  });
});
