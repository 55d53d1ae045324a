/** The quickstart example (the root project) through the real CLI: every step a user takes. */
import * as assert from "assert";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { killProcess, liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { capture, withStack } from "./harness";
import { REPO } from "./engine";
import { firstForwardPort } from "../helpers/ports";

const EXAMPLE = path.join(REPO, "bin/examples/quickstart/index.js");

/** Live QEMU processes whose pidfile is under this directory. */
const qemuPids = (dir: string) => liveQemuPids(`-pidfile ${dir}/`);

describe("e2e: the quickstart (real CLI, real QEMU on this machine)", function () {
  this.timeout(15 * 60 * 1000);
  after(() => closeAllSshTransports());

  it("preview, up, guest SSH, steady preview and refresh, kill -9 drift and repair, restart vs replace, destroy", async () => {
    // The program as a user runs it, loaded afresh for each CLI step.
    const program = async () => {
      delete require.cache[EXAMPLE];
      return require(EXAMPLE);
    };
    await withStack("quickstart", program, async (h) => {
      const workDir = path.join(h.dir, "host");
      const sshPort = firstForwardPort();
      await h.stack.setConfig("workDir", { value: workDir });
      await h.stack.setConfig("sshPort", { value: String(sshPort) });

      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual(preview.changeSummary, { create: 4 });
      for (const type of ["Host", "HostCapabilities", "Vm"]) assert.match(h.output(), new RegExp(`pulumi-nodejs:dynamic/qemu:${type} `));
      assert.ok(!existsSync(workDir), "preview touched the host");

      const up = await h.stack.up(capture(h));
      assert.deepStrictEqual(up.summary.resourceChanges, { create: 4 });
      assert.strictEqual(up.outputs.vmStatus.value, "running");
      assert.strictEqual(up.outputs.acceleratorInUse.value, up.outputs.recommendedAccelerator.value);
      const guestKey = readFileSync(path.join(process.env.HOME ?? "/root", ".cache/pulumi-qemu/guest/id_ed25519"), "utf8");
      const guest = () => sshTransport({ host: "127.0.0.1", port: sshPort, user: "root", privateKey: guestKey, insecureAcceptAnyHostKey: true, connectTimeoutMs: 20000 });
      assert.strictEqual((await guest().exec(["echo", "hi"])).stdout.trim(), "hi");
      await closeAllSshTransports();

      await h.stack.preview({ expectNoChanges: true, ...capture(h) });
      const steady = await h.stack.refresh(capture(h));
      assert.deepStrictEqual(steady.summary.resourceChanges, { same: 4 });

      const [pid] = qemuPids(workDir);
      killProcess(pid);
      const drift = await h.stack.preview({ refresh: true, ...capture(h) } as never);
      assert.strictEqual(drift.changeSummary.update, 1, JSON.stringify(drift.changeSummary));
      // The kill is seen by a refresh; `up --refresh` (not a bare up) acts on it.
      const repair = await h.stack.up({ refresh: true, ...capture(h) } as never);
      assert.strictEqual(repair.summary.resourceChanges?.update, 1, JSON.stringify(repair.summary.resourceChanges));
      assert.strictEqual(qemuPids(workDir).length, 1);
      assert.notStrictEqual(qemuPids(workDir)[0], pid);
      assert.strictEqual((await guest().exec(["echo", "again"])).stdout.trim(), "again");
      await closeAllSshTransports();

      await h.stack.setConfig("memory", { value: "320M" });
      const bigger = await h.stack.preview(capture(h));
      assert.deepStrictEqual(bigger.changeSummary, { same: 3, update: 1 });
      await h.stack.removeConfig("memory");

      await h.stack.setConfig("workDir", { value: `${workDir}2` });
      const moved = await h.stack.preview(capture(h));
      // Host and Vm are replaced; the capability report is updated in place (it owns nothing on the host).
      assert.deepStrictEqual(moved.changeSummary, { replace: 2, update: 1, same: 1 });
      assert.match(h.output(), /qemu:Vm quickstart replace/);
      await h.stack.setConfig("workDir", { value: workDir });

      const destroyed = await h.stack.destroy(capture(h));
      assert.deepStrictEqual(destroyed.summary.resourceChanges, { delete: 4 });
      assert.deepStrictEqual(qemuPids(workDir), []);
      assert.deepStrictEqual(await vmStateDirs(workDir, "quickstart"), [], "destroy left the VM's state directory");
    });
  });
});
