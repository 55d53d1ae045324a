/**
 * Issue 27, leases through the real CLI: a CI job's `pulumi up` is killed while its VMs run (one
 * ready, one still in its readiness wait); once their lease has passed, `pulumi-qemu gc --expired`
 * removes both and the job's own disks, and leaves a live stack's VM and disk of the same names in
 * the same working directory.
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { haltBootSector } from "../helpers/haltingGuest";
import { isAlive, killProcess, liveQemuPids, processesNaming } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { REPO } from "./engine";
import { PULUMI_SCRIPT, packTarball, userProject, userProjectEnv } from "./userProject";

const PROGRAM = `const qemu = require("pulumi-qemu");
const host = new qemu.Host("here", { workDir: process.env.VM_WORKDIR });
// Each VM's own disk: gc removes it with the VM.
const scratch = (name) => new qemu.Disk(name + "-scratch", { host: host.connection, size: "1M" }).path;
const vm = (name, extra) => new qemu.Vm(name, { host: host.connection, memory: "32M", accelerator: "tcg", machine: "pc", networks: [],
  disks: [{ path: process.env.VM_WORKDIR + "/halt.img", format: "raw", interface: "virtio", readOnly: true }, { path: scratch(name), format: "qcow2", interface: "virtio" }],
  stopTimeouts: { powerdownMs: 200 }, expiresAfter: process.env.LEASE || undefined, ...extra });
const quick = vm("quick", {});
// A guest that never prints: the up waits here until it is killed.
if (process.env.SLOW) vm("slow", { readiness: { serialPattern: "NEVER-PRINTED", timeoutMs: 300000 } }, { dependsOn: [quick] });
exports.pid = quick.pid;
`;

describe("e2e: a killed up's VMs are collected once their lease passes (npm pack, real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const root = mkdtempSync(path.join(tmpdir(), "pq-killed-"));
  const workDir = path.join(root, "host");
  after(() => {
    for (const pid of [...liveQemuPids(`-pidfile ${workDir}/`), ...processesNaming(root)]) killProcess(pid);
    rmSync(root, { recursive: true, force: true });
  });
  const envOf = (who: string, extra: Record<string, string> = {}) => userProjectEnv(path.join(root, who), path.join(root, `state-${who}`), "killed", { VM_WORKDIR: workDir, ...extra });
  const pulumi = (who: string, ...args: string[]) => execFileSync("node", [PULUMI_SCRIPT, ...args],
    { cwd: path.join(root, who), env: envOf(who), stdio: ["ignore", "pipe", "pipe"] }).toString();
  const gc = (...args: string[]) => execFileSync("node", [path.join(REPO, "bin/provider/cli.js"), "gc", "--work-dir", workDir, ...args]).toString();
  const vmPids = (name: string) => liveQemuPids(`-pidfile ${workDir}/vms/${name}.`);

  it("the killed job's two VMs are removed by gc --expired; the live stack's VM of the same name runs on", async () => {
    mkdirSync(workDir);
    writeFileSync(path.join(workDir, "halt.img"), haltBootSector());
    const tarball = packTarball(root);
    const live = path.join(root, "live");
    userProject(live, "lab", PROGRAM, tarball);
    cpSync(live, path.join(root, "ci"), { recursive: true });
    for (const who of ["live", "ci"]) {
      mkdirSync(path.join(root, `state-${who}`));
      pulumi(who, "stack", "init", "dev");
    }
    pulumi("live", "up", "--yes");
    const [livePid] = vmPids("quick");
    const scratches = () => readdirSync(path.join(workDir, "disks")).filter((f) => /-scratch\.[0-9a-f]{8}\.qcow2$/.test(f));
    const [liveScratch] = scratches();
    assert.ok(livePid, "the live stack's VM does not run");

    // The CI job: its up is killed (the whole process group: CLI, language host, provider) while "slow" waits.
    const job = spawn("node", [PULUMI_SCRIPT, "up", "--yes"], { cwd: path.join(root, "ci"), env: envOf("ci", { LEASE: "20s", SLOW: "1" }), detached: true, stdio: "ignore" });
    const started = Date.now();
    while (!(vmPids("quick").length === 2 && vmPids("slow").length === 1)) {
      assert.ok(Date.now() - started < 120000, "the job's VMs never started");
      await new Promise((r) => setTimeout(r, 250));
    }
    const seen = Date.now(); // both leases began before this moment (at their creates)
    process.kill(-job.pid!, "SIGKILL");
    const jobPids = [...vmPids("quick").filter((p) => p !== livePid), ...vmPids("slow")];
    assert.strictEqual(jobPids.length, 2);
    // The engine's provider plugin runs in a process group of its own, so it outlived the kill; once
    // its next progress line meets the closed pipe, it ends (it used to spin on EPIPE, growing).
    const providers = () => processesNaming(`${root}/ci/node_modules/@pulumi/pulumi/cmd/dynamic-provider`);
    while (providers().length && Date.now() - seen < 30000) await new Promise((r) => setTimeout(r, 500));
    assert.deepStrictEqual(providers(), [], "the killed job's provider process runs on");

    const before = gc();
    assert.match(before, /slow\.[0-9a-f]{8}\s+project lab, stack dev, resource slow\s+\S+\s+expires in/);
    assert.match(gc("--expired"), /0 expired VM\(s\) removed/, "a VM was collected before its lease passed");
    while (Date.now() - seen < 21000) await new Promise((r) => setTimeout(r, 500));
    const collected = gc("--expired");
    assert.match(collected, /2 expired VM\(s\) removed, and 2 disk\(s\) only they used/);
    assert.deepStrictEqual(scratches(), [liveScratch], "gc left the job's disk, or removed the live stack's");
    for (const pid of jobPids) assert.ok(!isAlive(pid), `the killed job's QEMU ${pid} runs on`);
    assert.ok(isAlive(livePid), "gc stopped the live stack's VM");
    assert.strictEqual((await vmStateDirs(workDir, "slow")).length, 0);
    assert.strictEqual((await vmStateDirs(workDir, "quick")).length, 1);
    assert.ok(existsSync(path.join(workDir, "halt.img")));
    pulumi("live", "destroy", "--yes");
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
  });
});
