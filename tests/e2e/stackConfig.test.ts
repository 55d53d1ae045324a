/**
 * Stack config as the Host's defaults (qemu:host, qemu:hostKey, qemu:workDir, and the secret
 * qemu:privateKey), and the secrets test: no key, password or user-data text in the exported
 * stack, the state file or anything the CLI printed.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync, readdirSync } from "fs";
import * as path from "path";
import { cloudInitSeed } from "../../provider/cloudInit/seed";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { Disk, Host, Vm } from "../../sdk";
import { countUnder, openModes, readableAs } from "../helpers/privateFiles";
import { liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { listDir } from "../helpers/hostFiles";
import { sshOptionsFor, testbed, GUEST_APPEND } from "../testbed/testbed";
import { pulumiBinDir } from "./engine";
import { capture, withStack } from "./harness";

describe("e2e: stack config defaults and secrets (real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const bed = testbed();
  const h1 = bed.hosts[0];
  const key = readFileSync(bed.clientKey, "utf8");
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const run = randomBytes(4).toString("hex");
  const direct = () => sshTransport(sshOptionsFor(h1));
  after(() => closeAllSshTransports());

  it("a Host without arguments goes where the stack config says; secrets never leave in clear", async () => {
    const workDir = `${h1.workDir}/e2e-config-${run}`;
    const passwordMarker = `pw-${randomBytes(8).toString("hex")}`;
    const appendMarker = `tok-${randomBytes(8).toString("hex")}`;
    const argMarker = `arg-${randomBytes(8).toString("hex")}`;
    const userData = `#cloud-config\npassword: ${passwordMarker}\n`;
    const vmName = `cfg-${run}`;
    const program = async () => {
      const host = new Host("default-host");
      new Disk("scratch", { host: host.connection, size: "16M" });
      const vm = new Vm("vm", {
        host: host.connection, name: vmName, memory: "256M", accelerator: "tcg",
        kernel: `${bed.hosts[0].guestDir}/vmlinuz`, initrd: `${bed.hosts[0].guestDir}/initramfs.gz`,
        append: pulumi.secret(`${GUEST_APPEND} pq.token=${appendMarker}`),
        extraArgs: pulumi.secret(["-fw_cfg", `name=opt/pq/token,string=${argMarker}`]),
        guestPrivateKey: guestKey,
        cloudInit: { userData },
        readiness: { serialPattern: "PULUMI-QEMU-GUEST-READY", timeoutMs: 90000 },
        stopTimeouts: { powerdownMs: 500, quitMs: 3000 },
      });
      return { description: host.description, workDir: host.workDir, status: vm.status, connection: host.connection };
    };
    await withStack("config", program, async (h) => {
      await h.stack.setAllConfig({
        "qemu:host": { value: `${bed.rootUser}@${h1.address}:${h1.port}` },
        "qemu:hostKey": { value: h1.hostKey },
        "qemu:workDir": { value: workDir },
        "qemu:privateKey": { value: key, secret: true },
      });
      const up = await h.stack.up(capture(h));
      assert.strictEqual(up.outputs.description.value, `${bed.rootUser}@${h1.address}:${h1.port}`);
      assert.strictEqual(up.outputs.workDir.value, workDir);
      assert.strictEqual(up.outputs.status.value, "running");
      assert.strictEqual(up.outputs.connection.secret, true);
      assert.strictEqual(liveQemuPids(`${workDir}/vms/${vmName}.`).length, 1, "the VM runs in the configured host's working directory");
      // Long waits report progress in the CLI output, live and in the diagnostics.
      assert.match(h.output(), new RegExp(`pulumi-qemu: VM ${vmName}: starting QEMU on ${bed.rootUser}@${h1.address}:${h1.port} \\(tcg\\)`));
      assert.match(h.output(), new RegExp(`pulumi-qemu: VM ${vmName}: ready under tcg after \\d+\\.\\d s`));
      await h.stack.preview({ expectNoChanges: true, ...capture(h) });

      // The secrets test: `pulumi stack export` (as a user runs it: no --show-secrets; the
      // Automation API's exportStack decrypts), the state file, the config file and the CLI output.
      const exported = execFileSync(path.join(pulumiBinDir(), "pulumi"), ["stack", "export", "--stack", "e2e"],
        { cwd: h.dir, env: { ...process.env, ...h.stack.workspace.envVars } }).toString();
      assert.match(exported, /qemu:Vm/);
      const stateDir = path.dirname(h.stateFile);
      const stateText = readdirSync(stateDir).filter((f) => f.endsWith(".json")).map((f) => readFileSync(path.join(stateDir, f), "utf8")).join("\n");
      const configText = readFileSync(path.join(h.dir, "Pulumi.e2e.yaml"), "utf8");
      const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
      const seedImage = cloudInitSeed({ userData }, vmName).seed!.image;
      const secrets: Array<[string, string]> = [
        ["host private key", key.split("\n")[1]], ["guest private key", guestKey.split("\n")[1]], ["user-data password", passwordMarker],
        ["secret append", appendMarker], ["secret extraArgs", argMarker],
        // A plain hash is reversed by guessing: none of the seed image, the user-data or the password.
        ["sha256 of the seed image", sha256(seedImage).slice(0, 16)], ["sha256 of the user-data", sha256(userData).slice(0, 16)],
        ["sha256 of the password", sha256(passwordMarker).slice(0, 16)],
      ];
      for (const [what, text] of secrets) {
        assert.ok(!exported.includes(text), `${what} in the exported stack`);
        assert.ok(!stateText.includes(text), `${what} in the state file`);
        assert.ok(!h.output().includes(text), `${what} printed by the CLI`);
      }
      assert.ok(!configText.includes(key.split("\n")[1]), "the private key in Pulumi.e2e.yaml in clear");
      // Issue 18, class 3: nothing under the working directory is readable by another Unix user.
      assert.ok(await countUnder(workDir) >= 8, `too few files to judge under ${workDir}`);
      assert.deepStrictEqual(await openModes(workDir), [], "entries open to the group or others");
      assert.deepStrictEqual(await readableAs(bed.plainUser, workDir), [], `entries ${bed.plainUser} can read`);
      const stateFiles = await listDir((await vmStateDirs(workDir, vmName))[0]);
      assert.ok(stateFiles.some((f) => /^cidata-[0-9a-f]{16}\.iso$/.test(f)), `no seed image among ${stateFiles}`);
      assert.ok(!stateFiles.some((f) => f.includes(sha256(seedImage).slice(0, 16))), `the seed image is named by its plain hash: ${stateFiles}`);
      assert.match(exported, /4dabf18193072939515e22adb298388d/, "secrets are stored as Pulumi secrets");

      // Pointing the stack elsewhere (another working directory) replaces the Host and the Vm with it.
      await h.stack.setConfig("qemu:workDir", { value: `${workDir}-moved` });
      const moved = await h.stack.preview(capture(h));
      assert.strictEqual(moved.changeSummary.replace, 3, JSON.stringify(moved.changeSummary));
      assert.strictEqual(liveQemuPids(`${workDir}/vms/${vmName}.`).length, 1, "preview must not touch the VM");

      // A malformed qemu:host fails the preview, naming the key.
      await h.stack.setConfig("qemu:host", { value: "user@host:notaport" });
      await assert.rejects(h.stack.preview(capture(h)), /property qemu:host .*stack config must be "local" or \[ssh:\/\/\]\[user@\]address\[:port\], got "user@host:notaport"/);
      await h.stack.setConfig("qemu:host", { value: `${bed.rootUser}@${h1.address}:${h1.port}` });
      await h.stack.setConfig("qemu:workDir", { value: workDir });

      const destroyed = await h.stack.destroy(capture(h));
      assert.deepStrictEqual(destroyed.summary.resourceChanges, { delete: 4 });
      assert.deepStrictEqual(liveQemuPids(`${workDir}/vms/${vmName}.`), []);
      await direct().exec(["rm", "-rf", "--", workDir, `${workDir}-moved`]);
    });
  });
});
