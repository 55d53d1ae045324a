/** `npm run pulumi -- ...` in a project directory, as a user runs it. */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { REPO } from "./engine";

describe("e2e: npm run pulumi in a project directory (real CLI)", function () {
  this.timeout(5 * 60 * 1000);

  it("version, preview --json, up, no-change preview, destroy, stack rm", () => {
    mkdirSync(path.join(REPO, ".cache/e2e"), { recursive: true });
    const dir = mkdtempSync(path.join(REPO, ".cache/e2e/wrapper-"));
    const target = path.join(dir, "hello.txt");
    const fixture = path.join(REPO, "bin/tests/e2e/fixtures/remoteFile");
    writeFileSync(path.join(dir, "Pulumi.yaml"), "name: wrapper\nruntime: nodejs\nmain: index.ts\n");
    writeFileSync(path.join(dir, "index.ts"), [
      `import { RemoteFile } from ${JSON.stringify(fixture)};`,
      `const f = new RemoteFile("hello", { connection: { kind: "local" }, path: ${JSON.stringify(target)}, content: "hi" });`,
      "export const written = f.path;",
    ].join("\n"));
    mkdirSync(path.join(dir, "state"));
    const pulumi = (...args: string[]) => execFileSync("node", [path.join(REPO, "scripts/pulumi.js"), ...args], {
      env: { ...process.env, INIT_CWD: dir, PULUMI_BACKEND_URL: `file://${dir}/state` },
      stdio: ["ignore", "pipe", "pipe"],
    }).toString();
    try {
      assert.strictEqual(pulumi("version").trim(), "v3.248.0");
      pulumi("stack", "init", "e2e");
      const preview = JSON.parse(pulumi("preview", "--json")) as { steps: Array<{ op: string; urn: string }> };
      assert.deepStrictEqual(preview.steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort(),
        ["create hello", "create wrapper-e2e"]);
      assert.ok(!existsSync(target), "preview must not write");
      pulumi("up", "--yes"); // preview and update in one process: the program runs twice
      assert.strictEqual(readFileSync(target, "utf8"), "hi");
      pulumi("preview", "--expect-no-changes");
      pulumi("destroy", "--yes", "--skip-preview");
      assert.ok(!existsSync(target));
      pulumi("stack", "rm", "--yes", "e2e");
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      const err = e as { stdout?: Buffer; stderr?: Buffer };
      console.error(`kept ${dir}\n${err.stdout?.toString() ?? ""}\n${err.stderr?.toString() ?? ""}`);
      throw e;
    }
  });
});
