/**
 * Issue 27 through the real CLI: two user projects (the same program, the same project and stack
 * names, each with its own backend, as two people or two CI jobs have) declare Vm "hold" in one
 * working directory of one host. A's QEMU dies; C's up gets its own VM; A's refresh sees its own
 * VM stopped (not C's); A's up starts it again beside C's; each destroy removes only its own.
 * Then, through the same CLI: a VM past a Host's memory limit is refused with the figures and
 * nothing starts; a VM whose kernel command line is a secret boots with it, while no process
 * command line (looked at as another user) and no state file holds it in clear text.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { haltBootSector } from "../helpers/haltingGuest";
import { isAlive, killProcess, liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { testbed } from "../testbed/testbed";
import { PULUMI_SCRIPT, packTarball, userProject, userProjectEnv } from "./userProject";

const PROGRAM = `const qemu = require("pulumi-qemu");
const host = new qemu.Host("here", { workDir: process.env.VM_WORKDIR });
const vm = new qemu.Vm("hold", { host: host.connection, memory: "32M", accelerator: "tcg", machine: "pc", networks: [],
  disks: [{ path: process.env.VM_WORKDIR + "/halt.img", format: "raw", interface: "virtio", readOnly: true }],
  stopTimeouts: { powerdownMs: 200 } });
exports.pid = vm.pid;
exports.stateDir = vm.stateDir;
if (process.env.EXTRA === "big") {
  const half = new qemu.Host("half", { workDir: process.env.VM_WORKDIR, memoryOvercommit: 0.5 });
  new qemu.Vm("big", { host: half.connection, memory: process.env.BIG_MEMORY, accelerator: "tcg", machine: "pc", networks: [],
    disks: [{ path: process.env.VM_WORKDIR + "/halt.img", format: "raw", interface: "virtio", readOnly: true }] });
}
if (process.env.EXTRA === "secret") {
  const pulumi = require("@pulumi/pulumi");
  const guest = process.env.GUEST_DIR;
  const quiet = new qemu.Vm("quiet", { host: host.connection, memory: "192M", accelerator: "tcg", networks: [],
    kernel: guest + "/vmlinuz", initrd: guest + "/initramfs.gz", append: pulumi.secret("console=ttyS0 no_timer_check mark=" + process.env.MARK),
    readiness: { serialPattern: "mark=MK[0-9a-f]{16}", timeoutMs: 120000 }, stopTimeouts: { powerdownMs: 0 } });
  exports.quietDir = quiet.stateDir;
}
`;

interface VmState { pid?: number; status: string; stateDir: string }

describe("e2e: two stacks, one Vm name, one working directory (npm pack, real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const root = mkdtempSync(path.join(tmpdir(), "pq-shared-"));
  const workDir = path.join(root, "host");
  after(() => {
    for (const pid of liveQemuPids(`-pidfile ${workDir}/`)) killProcess(pid); // a failed test's VM
    rmSync(root, { recursive: true, force: true });
  });

  let extra: Record<string, string> = {};
  const pulumi = (who: string, ...args: string[]) => execFileSync("node", [PULUMI_SCRIPT, ...args], {
    cwd: path.join(root, who),
    env: userProjectEnv(path.join(root, who), path.join(root, `state-${who}`), "shared", { VM_WORKDIR: workDir, ...extra }),
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();
  /** The Vm as the stack's state records it. */
  const recorded = (who: string): VmState => {
    const state = JSON.parse(pulumi(who, "stack", "export"));
    const vm = state.deployment.resources.find((r: { type: string }) => r.type === "pulumi-nodejs:dynamic/qemu:Vm");
    return vm.outputs;
  };

  it("A's VM dies, C declares the same name: C gets its own; A's refresh, up and destroy act only on A's", async () => {
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
    killProcess(aFirst.pid!); // A's QEMU dies

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
    assert.deepStrictEqual((await vmStateDirs(workDir, "hold")).sort(), [aFirst.stateDir, c.stateDir].sort());

    pulumi("a", "destroy", "--yes");
    assert.ok(!isAlive(aAgain.pid!), "A's destroy left A's VM");
    assert.ok(isAlive(c.pid!), "A's destroy stopped C's VM");
    assert.deepStrictEqual(await vmStateDirs(workDir, "hold"), [c.stateDir]);
    pulumi("c", "refresh", "--yes", "--expect-no-changes");
    pulumi("c", "destroy", "--yes");
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
    assert.deepStrictEqual(await vmStateDirs(workDir, "hold"), []);
  });

  it("a VM past the Host's memory limit is refused with the figures, nothing started", async () => {
    const totalMiB = Math.floor(Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))![1]) / 1024);
    extra = { EXTRA: "big", BIG_MEMORY: `${Math.floor(totalMiB * 0.6)}M` };
    const failed = (() => { try { pulumi("a", "up", "--yes", "--skip-preview"); return ""; } catch (e) { const { stdout, stderr } = e as { stdout?: Buffer; stderr?: Buffer }; return `${stdout}${stderr}`; } })();
    // (Its own "hold" starts at the same moment: whether it is among the holders yet is a race.)
    assert.match(failed, /error: memory: local: VM big needs \d+\.\d\d GiB, but the host has \d+\.\d\d GiB \(VMs may take 50% by the Host's memoryOvercommit: \d+\.\d\d GiB\) and its running VMs already hold \d+\.\d\d GiB.*; nothing was started/);
    assert.deepStrictEqual(await vmStateDirs(workDir, "big"), [], "the refused VM left a state directory");
    assert.strictEqual(liveQemuPids(`-pidfile ${workDir}/`).length, 1, "not just A's hold runs");
    extra = {};
    pulumi("a", "destroy", "--yes", "--skip-preview");
  });

  it("a secret kernel command line reaches the guest, and no process command line or state file holds it", async () => {
    const mark = `MK${randomBytes(8).toString("hex")}`;
    extra = { EXTRA: "secret", MARK: mark, GUEST_DIR: testbed().guest.dir };
    pulumi("a", "up", "--yes", "--skip-preview"); // its readiness waits for the guest to print a mark
    const [quietDir] = await vmStateDirs(workDir, "quiet");
    assert.ok(readFileSync(path.join(quietDir, "serial.log"), "utf8").includes(`mark=${mark}`), "the guest did not get its secret command line");
    const asNobody = execFileSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "ps", "-eo", "args"]).toString();
    assert.ok(asNobody.includes(`-pidfile ${workDir}/vms/quiet.`), "the VM's QEMU is not in the list another user sees");
    assert.ok(!asNobody.includes(mark), "the secret append is on a command line another user can read");
    assert.ok(!pulumi("a", "stack", "export").includes(mark), "the state holds the secret append in clear text");
    extra = {};
    pulumi("a", "destroy", "--yes", "--skip-preview");
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
  });
});
