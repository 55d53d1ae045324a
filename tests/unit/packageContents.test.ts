/** The package a user installs holds every host script the built code reads (npm pack --dry-run, as npm publish would pack it). */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { readdirSync } from "fs";
import * as path from "path";
import { hostScriptsDir } from "../../provider/transport/hostScript";

const ROOT = path.resolve(__dirname, "../../..");

describe("package contents", () => {
  it("every file of provider/scripts is packed, beside the built provider", function () {
    this.timeout(60000);
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const packed = new Set((JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path));
    const scripts = readdirSync(hostScriptsDir()).map((f) => `provider/scripts/${f}`);
    assert.ok(scripts.length > 20, `only ${scripts.length} scripts found`);
    assert.deepStrictEqual(scripts.filter((f) => !packed.has(f)), []);
    assert.ok(packed.has("bin/provider/transport/hostScript.js"));
    // The built module finds them where the package puts them.
    assert.strictEqual(path.relative(ROOT, hostScriptsDir()), path.join("provider", "scripts"));
  });
});
