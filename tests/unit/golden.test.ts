/**
 * Golden files for the QEMU command line: tests/unit/golden/<case>.json -> <case>.args, one
 * option (with its value) per line. UPDATE_GOLDEN=1 rewrites the .args files; a case without
 * its pair fails.
 */
import * as assert from "assert";
import { readdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { qemuArgv } from "../../provider/vm/argv";
import type { Platform } from "../../provider/transport";
import { vmLayout } from "../../provider/layout";
import { vmSpec, type VmInputs } from "../../provider/vm/spec";

const DIR = path.join(__dirname, "../../../tests/unit/golden");

/** One option per line: a flag and, when the next element is not a flag, its value. */
export function formatArgv(argv: string[]): string {
  const lines: string[] = [argv[0]];
  for (let i = 1; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i].startsWith("-") && value !== undefined && !value.startsWith("-")) lines.push(`${argv[i]} ${argv[++i]}`);
    else lines.push(argv[i]);
  }
  return lines.join("\n") + "\n";
}

describe("QEMU argv (golden files)", () => {
  const files = readdirSync(DIR).filter((f) => f !== "scripts"); // scripts/: hostScriptsGolden.test.ts
  const cases = files.filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
  it("every case has both files, and there is at least one", () => {
    assert.ok(cases.length > 0);
    const orphans = files.filter((f) => !cases.includes(f.replace(/\.(json|args)$/, "")) || !files.includes(f.replace(/\.json$/, ".args")));
    assert.deepStrictEqual(orphans, [], "a golden file without its pair");
  });
  for (const name of cases) {
    it(name, () => {
      const c = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), "utf8")) as { inputs: VmInputs; accelerators: string[]; qemuBinary: string; platform?: Platform; firmware?: string };
      const { spec, errors } = vmSpec(c.inputs);
      assert.deepStrictEqual(errors.map((e) => e.message), []);
      const text = formatArgv(qemuArgv(spec, { qemuBinary: c.qemuBinary, accelerators: c.accelerators, layout: vmLayout(c.inputs.host.workDir!, spec.name), platform: c.platform, firmware: c.firmware }));
      const goldenFile = path.join(DIR, `${name}.args`);
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(goldenFile, text);
      assert.strictEqual(text, readFileSync(goldenFile, "utf8"));
    });
  }
});
