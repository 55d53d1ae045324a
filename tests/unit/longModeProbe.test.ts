import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { LONG_MODE_PROBE_IMAGE, probeArgv } from "../../provider/host/accelerators/longModeProbe";

describe("the long-mode probe image", () => {
  it("is the assembled longModeProbe.S, byte for byte (GNU as)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-probe-"));
    try {
      const source = path.join(__dirname, "../../../provider/host/accelerators/longModeProbe.S");
      execFileSync("as", ["--32", "-o", path.join(dir, "p.o"), source]);
      execFileSync("objcopy", ["-O", "binary", "-j", ".text", path.join(dir, "p.o"), path.join(dir, "p.bin")]);
      assert.ok(readFileSync(path.join(dir, "p.bin")).equals(LONG_MODE_PROBE_IMAGE));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is a 512-byte boot sector", () => {
    assert.strictEqual(LONG_MODE_PROBE_IMAGE.length, 512);
    assert.strictEqual(LONG_MODE_PROBE_IMAGE.readUInt16LE(510), 0xaa55);
  });

  it("runs with the accelerator, the exit device and the image, commas escaped", () => {
    const argv = probeArgv("/usr/bin/qemu-system-x86_64", "kvm", "/srv/a,b/probe.img");
    assert.deepStrictEqual(argv.slice(0, 3), ["/usr/bin/qemu-system-x86_64", "-accel", "kvm"]);
    assert.ok(argv.includes("isa-debug-exit,iobase=0xf4,iosize=0x04"));
    assert.strictEqual(argv[argv.length - 1], "file=/srv/a,,b/probe.img,format=raw,if=ide,snapshot=on");
  });
});
