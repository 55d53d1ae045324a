/**
 * A stack written by the previous release (tests/e2e/fixtures/previous-release) refreshes,
 * updates and destroys with the current one, installed from `npm pack` where the old one was.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { haltBootSector } from "../helpers/haltingGuest";
import { killProcess, liveQemuPids } from "../helpers/processes";
import { REPO } from "./engine";

const FIXTURE = path.join(REPO, "tests/e2e/fixtures/previous-release");
/** Where the recorded state's serialized providers say the package is installed. */
const ROOT = "/tmp/pulumi-qemu-previous-release";

describe("e2e: a stack written by the previous release (real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const [project, host, state] = ["project", "host", "state"].map((d) => path.join(ROOT, d));
  after(() => {
    for (const pid of liveQemuPids(`${host}/`)) killProcess(pid); // a failed test's VM
    rmSync(ROOT, { recursive: true, force: true });
  });

  const env = { ...process.env, PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "previous-release", INIT_CWD: project };
  const pulumi = (...args: string[]) =>
    execFileSync("node", [path.join(REPO, "scripts/pulumi.js"), ...args], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] }).toString();

  it("imports, refreshes (the VM is gone: stopped), up starts it with the current release, destroy leaves nothing", () => {
    rmSync(ROOT, { recursive: true, force: true });
    for (const d of [project, host, state]) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(host, "halt.img"), haltBootSector());
    for (const f of ["Pulumi.yaml", "index.js"]) copyFileSync(path.join(FIXTURE, f), path.join(project, f));
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "previous-release", version: "1.0.0", main: "index.js" }));
    const tarball = path.join(ROOT, execFileSync("npm", ["pack", "--silent", "--pack-destination", ROOT], { cwd: REPO }).toString().trim().split("\n").pop()!);
    const sdk = JSON.parse(readFileSync(path.join(REPO, "node_modules/@pulumi/pulumi/package.json"), "utf8")).version;
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${sdk}`], { cwd: project, stdio: "ignore" });
    pulumi("stack", "init", "dev");
    copyFileSync(path.join(FIXTURE, "Pulumi.dev.yaml"), path.join(project, "Pulumi.dev.yaml"));
    pulumi("stack", "import", "--file", path.join(FIXTURE, "state.json"));
    assert.match(pulumi("stack", "export"), /pulumi-qemu-previous-release\/project\/node_modules\/pulumi-qemu\/bin\/provider\/resources\/vm\.js/,
      "the imported state is not the previous release's (its providers name a path)");

    pulumi("refresh", "--yes");
    assert.match(pulumi("stack", "export"), /"status": "stopped"/, "the refresh did not see that the VM is gone");
    const up = pulumi("up", "--yes");
    assert.match(up, /status\s*: "running"/);
    assert.strictEqual(liveQemuPids(`${host}/`).length, 1);
    assert.doesNotMatch(pulumi("stack", "export"), /pulumi-qemu-previous-release\/project\/node_modules/, "up left the old serialized providers");
    pulumi("destroy", "--yes");
    assert.deepStrictEqual(liveQemuPids(`${host}/`), []);
    assert.ok(!existsSync(path.join(host, "vms/halts")));
  });
});
