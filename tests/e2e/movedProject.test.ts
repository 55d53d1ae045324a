/**
 * A user project outside this repository, with the package installed from `npm pack`, through
 * the real CLI: `up` in directory A; the program copied to B with its own `npm install`; A
 * deleted; from B the stack refreshes with no changes and destroys, leaving no QEMU.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { haltBootSector } from "../helpers/haltingGuest";
import { killProcess, liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { REPO } from "./engine";
import { packTarball, userProject } from "./userProject";

const PROGRAM = `const qemu = require("pulumi-qemu");
const host = new qemu.Host("here", { workDir: process.env.VM_WORKDIR });
const vm = new qemu.Vm("halts", { host: host.connection, memory: "32M", accelerator: "tcg", machine: "pc", networks: [],
  disks: [{ path: process.env.VM_WORKDIR + "/halt.img", format: "raw", interface: "virtio", readOnly: true }],
  stopTimeouts: { powerdownMs: 200 } });
exports.status = vm.status;
exports.pid = vm.pid;
`;

describe("e2e: a user project moved to another directory (npm pack, real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const root = mkdtempSync(path.join(tmpdir(), "pq-moved-"));
  const [dirA, dirB, state, workDir] = ["a", "b", "state", "host"].map((d) => path.join(root, d));
  after(() => {
    for (const pid of liveQemuPids(`-pidfile ${workDir}/`)) killProcess(pid); // a failed test's VM
    rmSync(root, { recursive: true, force: true });
  });

  const env = { ...process.env, PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "moved", VM_WORKDIR: workDir };
  const pulumi = (dir: string, ...args: string[]) =>
    execFileSync("node", [path.join(REPO, "scripts/pulumi.js"), ...args], { cwd: dir, env: { ...env, INIT_CWD: dir }, stdio: ["ignore", "pipe", "pipe"] }).toString();
  const project = (dir: string, tarball: string) => userProject(dir, "moved-vms", PROGRAM, tarball);

  it("up in A; B with its own npm install, A deleted; from B: no changes on preview and refresh; destroy leaves nothing", async () => {
    mkdirSync(state);
    mkdirSync(workDir);
    writeFileSync(path.join(workDir, "halt.img"), haltBootSector());
    const tarball = packTarball(root);
    project(dirA, tarball);
    pulumi(dirA, "stack", "init", "dev");
    const up = pulumi(dirA, "up", "--yes");
    assert.match(up, /status\s*: "running"/);
    const [pid] = liveQemuPids(`-pidfile ${workDir}/`);
    assert.ok(pid, "no QEMU after up");
    const exported = pulumi(dirA, "stack", "export", "--show-secrets");
    assert.doesNotMatch(exported, new RegExp(dirA.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "the state names directory A");

    project(dirB, tarball);
    rmSync(dirA, { recursive: true, force: true });
    pulumi(dirB, "stack", "select", "dev");
    pulumi(dirB, "preview", "--expect-no-changes");
    pulumi(dirB, "refresh", "--yes", "--expect-no-changes");
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), [pid], "the VM was restarted");
    pulumi(dirB, "destroy", "--yes");
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
    assert.deepStrictEqual(await vmStateDirs(workDir, "halts"), [], "destroy left the VM's state directory");
    assert.ok(existsSync(path.join(workDir, "halt.img")), "destroy deleted the user's image");
  });
});
