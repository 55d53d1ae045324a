/** The real Pulumi CLI drives a dynamic resource of the project: every step a user runs. */
import * as assert from "assert";
import { randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync, rmSync } from "fs";
import { sshTransport, closeAllSshTransports } from "../../provider/transport";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { RemoteFile } from "./fixtures/remoteFile";
import { capture, withStack } from "./harness";

describe("e2e: the Pulumi engine pipeline (real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const host = testbed().hosts[0];
  const direct = () => sshTransport(sshOptionsFor(host));
  const keyLine = readFileSync(testbed().clientKey, "utf8").split("\n")[1];
  after(() => closeAllSshTransports());

  it("preview, up, no-change preview, refresh, drift, destroy", async () => {
    const file = `${host.workDir}/e2e-${randomBytes(4).toString("hex")}.txt`;
    const program = async () => {
      const f = new RemoteFile("greeting", {
        connection: pulumi.secret({ kind: "ssh" as const, ...sshOptionsFor(host) }),
        path: file,
        content: "hello",
      });
      return { path: f.path };
    };
    await withStack("pipeline", program, async (h) => {
      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual(preview.changeSummary, { create: 2 });
      assert.strictEqual((await direct().exec(["test", "-e", file])).exitCode, 1, "preview must not touch the host");

      const up = await h.stack.up(capture(h));
      assert.deepStrictEqual(up.summary.resourceChanges, { create: 2 });
      assert.strictEqual((await direct().readFile(file)).toString(), "hello");
      assert.strictEqual(up.outputs.path.value, file);

      await h.stack.preview({ expectNoChanges: true, ...capture(h) });
      const steady = await h.stack.refresh(capture(h));
      assert.deepStrictEqual(steady.summary.resourceChanges, { same: 2 });

      await direct().writeFile(file, "tampered", { mode: 0o644 });
      const drift = await h.stack.refresh(capture(h));
      assert.strictEqual(drift.summary.resourceChanges?.update, 1, JSON.stringify(drift.summary.resourceChanges));
      const repair = await h.stack.up(capture(h));
      assert.strictEqual(repair.summary.resourceChanges?.update, 1);
      assert.strictEqual((await direct().readFile(file)).toString(), "hello");

      // The state file as the backend keeps it (exportStack() would decrypt: it passes --show-secrets).
      const state = readFileSync(h.stateFile, "utf8");
      assert.match(state, /ciphertext/);
      assert.ok(!state.includes(keyLine), "the private key is in the state in clear text");
      assert.ok(!h.output().includes(keyLine), "the private key was printed");

      const destroyed = await h.stack.destroy(capture(h));
      assert.deepStrictEqual(destroyed.summary.resourceChanges, { delete: 2 });
      assert.strictEqual((await direct().exec(["test", "-e", file])).exitCode, 1, "destroy left the file");
    });
  });

  it("fails the step, with the program's message, when the program is broken", async () => {
    const program = async () => {
      throw new Error("deliberately broken program");
    };
    let dir = "";
    await assert.rejects(withStack("broken", program, async (h) => {
      dir = h.dir;
      await h.stack.up(capture(h));
    }), /deliberately broken program/);
    // The harness keeps a failed test's directory for reading; this failure is the expected one.
    rmSync(dir, { recursive: true, force: true });
  });
});
