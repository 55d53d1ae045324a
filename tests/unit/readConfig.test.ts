/** The kernel command line goes to QEMU's private config file, not its command line (argv.ts qemuReadConfig). */
import * as assert from "assert";
import { appendExposure, fitsReadConfig, qemuArgv, qemuReadConfig } from "../../provider/vm/argv";
import { vmLayout } from "../../provider/layout";
import { vmSpec } from "../../provider/vm/spec";

const specWith = (append?: string) => vmSpec({ host: { kind: "local", workDir: "/w" }, name: "v", kernel: "/k", append }).spec;

describe("append through -readconfig", () => {
  const cases: Array<[string, string, boolean]> = [
    ["a plain command line", "console=ttyS0 token=s3cr3t", true],
    ["empty: nothing to hide, and the parser takes no empty value", "", false],
    ["a double quote: the parser ends the value there", 'init=/bin/sh -- "a b"', false],
    ["a line break", "a\nb", false],
    ["1023 bytes", "x".repeat(1023), true],
    ["1024 bytes", "x".repeat(1024), false],
    ["1023 bytes of which some are two-byte characters", "ä".repeat(512), false],
  ];
  for (const [what, value, fits] of cases) it(what, () => assert.strictEqual(fitsReadConfig(value), fits));

  it("a fitting append is in the file and nowhere in the argv", () => {
    const spec = specWith("console=ttyS0 token=s3cr3t");
    const argv = qemuArgv(spec, { qemuBinary: "q", accelerators: ["tcg"], layout: vmLayout("/w", "v.0a1b2c3d") });
    assert.ok(!argv.some((a) => a.includes("s3cr3t")), argv.join(" "));
    assert.deepStrictEqual(argv.slice(argv.indexOf("-readconfig"), argv.indexOf("-readconfig") + 2), ["-readconfig", "/w/vms/v.0a1b2c3d/qemu.cfg"]);
    assert.strictEqual(qemuReadConfig(spec), '[machine]\n  append = "console=ttyS0 token=s3cr3t"\n');
    assert.strictEqual(appendExposure(spec), undefined);
  });

  it("one that does not fit stays on the command line, and the CLI output says who can read it", () => {
    const spec = specWith('init=/bin/sh -- "a b"');
    assert.strictEqual(qemuReadConfig(spec), undefined);
    assert.match(appendExposure(spec)!, /every local user of the host can read it/);
    assert.strictEqual(appendExposure(specWith(undefined)), undefined);
  });
});
