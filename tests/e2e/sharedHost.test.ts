/**
 * Issue 27 through the real CLI: two user projects (the same program, the same project and stack
 * names, each with its own backend, as two people or two CI jobs have) declare Vm "hold" in one
 * working directory of one host. A's QEMU dies; C's up gets its own VM; A's refresh sees its own
 * VM stopped (not C's); A's up starts it again beside C's; each destroy removes only its own.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { haltBootSector } from "../helpers/haltingGuest";
import { isAlive, liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { REPO } from "./engine";
import { packTarball, userProject } from "./userProject";

const PROGRAM = `const qemu = require("pulumi-qemu");
const host = new qemu.Host("here", { workDir: process.env.VM_WORKDIR });
const vm = new qemu.Vm("hold", { host: host.connection, memory: "32M", accelerator: "tcg", machine: "pc", networks: [],
  disks: [{ path: process.env.VM_WORKDIR + "/halt.img", format: "raw", interface: "virtio", readOnly: true }],
  stopTimeouts: { powerdownMs: 200 } });
exports.pid = vm.pid;
exports.stateDir = vm.stateDir;
`;

interface VmState { pid?: number; status: string; stateDir: string }

describe("e2e: two stacks, one Vm name, one working directory (npm pack, real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const root = mkdtempSync(path.join(tmpdir(), "pq-shared-"));
  const workDir = path.join(root, "host");
  after(() => {
    for (const pid of liveQemuPids(`-pidfile ${workDir}/`)) process.kill(pid, "SIGKILL"); // a failed test's VM
    rmSync(root, { recursive: true, force: true });
  });

  const pulumi = (who: string, ...args: string[]) => execFileSync("node", [path.join(REPO, "scripts/pulumi.js"), ...args], {
    cwd: path.join(root, who),
    env: { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(root, `state-${who}`)}`, PULUMI_CONFIG_PASSPHRASE: "shared", VM_WORKDIR: workDir, INIT_CWD: path.join(root, who) },
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();
  /** The Vm as the stack's state records it. */
  const recorded = (who: string): VmState => {
    const state = JSON.parse(pulumi(who, "stack", "export"));
    const vm = state.deployment.resources.find((r: { type: string }) => r.type === "pulumi-nodejs:dynamic/qemu:Vm");
    return vm.outputs;
  };

  it("A's VM dies, C declares the same name: C gets its own; A's refresh, up and destroy act only on A's", () => {
    mkdirSync(workDir);
    writeFileSync(path.join(workDir, "halt.img"), haltBootSector());
    const tarball = packTarball(root);
    const a = path.join(root, "a");
    userProject(a, "shared-lab", PROGRAM, tarball);
    cpSync(a, path.join(root, "c"), { recursive: true }); // the same program, checked out by someone else
    for (const who of ["a", "c"]) {
      mkdirSync(path.join(root, `state-${who}`));
      pulumi(who, "stack", "init", "dev");
    }

    pulumi("a", "up", "--yes");
    const aFirst = recorded("a");
    assert.strictEqual(aFirst.status, "running");
    process.kill(aFirst.pid!, "SIGKILL"); // A's QEMU dies

    pulumi("c", "up", "--yes");
    const c = recorded("c");
    assert.strictEqual(c.status, "running");
    assert.notStrictEqual(c.stateDir, aFirst.stateDir, "C's VM went into A's state directory");
    const owner = JSON.parse(readFileSync(path.join(c.stateDir, "owner"), "utf8"));
    assert.deepStrictEqual([owner.project, owner.stack, owner.resource], ["shared-lab", "dev", "hold"]);

    pulumi("a", "refresh", "--yes");
    const aRefreshed = recorded("a");
    assert.strictEqual(aRefreshed.status, "stopped", "A's refresh took C's QEMU for its own");
    assert.notStrictEqual(aRefreshed.pid, c.pid);

    pulumi("a", "up", "--yes");
    const aAgain = recorded("a");
    assert.strictEqual(aAgain.status, "running");
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`).sort(), [aAgain.pid!, c.pid!].sort(), "A's and C's VMs side by side");
    assert.deepStrictEqual(vmStateDirs(workDir, "hold").sort(), [aFirst.stateDir, c.stateDir].sort());

    pulumi("a", "destroy", "--yes");
    assert.ok(!isAlive(aAgain.pid!), "A's destroy left A's VM");
    assert.ok(isAlive(c.pid!), "A's destroy stopped C's VM");
    assert.deepStrictEqual(vmStateDirs(workDir, "hold"), [c.stateDir]);
    pulumi("c", "refresh", "--yes", "--expect-no-changes");
    pulumi("c", "destroy", "--yes");
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
    assert.deepStrictEqual(vmStateDirs(workDir, "hold"), []);
  });
});
