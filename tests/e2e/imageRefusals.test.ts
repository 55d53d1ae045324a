/**
 * Issue 30's second "done when", through the real CLI (npm pack): an Image with a wrong digest,
 * one whose URL answers 404 and one whose header names a backing file are each refused naming
 * the property, with nothing left on the host; a `pulumi up` killed half-way through a download
 * leaves no file at the entry's path, and the next `up` finishes it.
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import { createHash, randomBytes } from "crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { imageCacheDir } from "../../provider/layout";
import { imageCacheFiles } from "../helpers/hostFiles";
import { startImageMirror, type ImageMirror } from "../helpers/imageServer";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { PULUMI_SCRIPT, packTarball, projectsUnder, userProject, userProjectEnv } from "./userProject";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const qemu = require("pulumi-qemu");
const { readFileSync } = require("fs");
const config = new pulumi.Config();
const h = config.requireObject("host");
const host = new qemu.Host("h1", { address: h.address, port: h.port, user: h.user, privateKey: pulumi.secret(readFileSync(config.require("privateKeyFile"), "utf8")), hostKey: h.hostKey, workDir: h.workDir });
const image = new qemu.Image("img", { host: host.connection, url: config.require("url"), sha256: config.require("sha256") });
exports.path = image.path;
`;

describe("e2e: Image refusals and a killed download (npm pack, real CLI, test mirror)", function () {
  this.timeout(15 * 60 * 1000);
  const bed = testbed();
  const h = bed.hosts[0];
  const run = randomBytes(3).toString("hex");
  const root = mkdtempSync(path.join(tmpdir(), "pq-imgcli-"));
  const files = path.join(root, "files");
  const workDir = `${h.workDir}/e2e-imgcli-${run}`;
  const onHost = () => sshTransport(sshOptionsFor(h));
  const pulumi = projectsUnder(root);
  let mirror: ImageMirror | undefined;
  after(async () => {
    mirror?.stop();
    await onHost().exec(["rm", "-rf", "--", workDir]).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    await closeAllSshTransports();
  });
  const cacheFiles = () => imageCacheFiles(workDir);
  const sha = (f: string) => createHash("sha256").update(readFileSync(path.join(files, f))).digest("hex");

  it("a wrong digest, a 404 and a backing file are refused naming the property, nothing kept; a killed up's download is finished by the next up", async () => {
    mkdirSync(files);
    writeFileSync(path.join(files, "data.raw"), randomBytes(24 * 2 ** 20));
    execFileSync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", path.join(files, "data.raw"), path.join(files, "good.qcow2")]);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", path.join(files, "backed.qcow2")]);
    mirror = await startImageMirror(bed.hosts[2], files);
    userProject(path.join(root, "a"), "img-cli", PROGRAM, packTarball(root));
    mkdirSync(path.join(root, "state-a"));
    await pulumi("a", "stack", "init", "ci");
    const set = async (values: Record<string, string>) => { for (const [k, v] of Object.entries(values)) await pulumi("a", "config", "set", k, v); };
    await set({ host: JSON.stringify({ address: h.address, port: h.port, user: bed.rootUser, hostKey: h.hostKey, workDir }), privateKeyFile: bed.clientKey });

    const refused: Array<[Record<string, string>, RegExp]> = [
      [{ url: mirror.lanUrl("good.qcow2"), sha256: "0".repeat(64) }, new RegExp(`sha256: .*the file's sha256 is ${sha("good.qcow2")}, not the declared 0{64}; nothing was kept`)],
      [{ url: mirror.lanUrl("gone.qcow2"), sha256: "1".repeat(64) }, /url: .*gone\.qcow2 failed, nothing was kept: .*404/],
      [{ url: mirror.lanUrl("backed.qcow2"), sha256: sha("backed.qcow2") }, /url: .*its header names a backing file "\/etc\/passwd".*nothing was kept/],
    ];
    for (const [values, expected] of refused) {
      await set(values);
      const failed = await pulumi("a", "up", "--yes", "--skip-preview").then(() => "", (e: Error) => e.message);
      assert.match(failed, expected);
      assert.deepStrictEqual(await cacheFiles(), [], `left on the host after ${values.url}`);
    }

    // About 8 s for 24 MiB: the up is killed once a part of it has arrived.
    await set({ url: mirror.lanUrl("good.qcow2"), sha256: sha("good.qcow2") });
    await mirror.slow("good.qcow2", 3 * 2 ** 20);
    const entry = `sha256-${sha("good.qcow2")}.qcow2`;
    const up = spawn("node", [PULUMI_SCRIPT, "up", "--yes", "--skip-preview"], { cwd: path.join(root, "a"), env: userProjectEnv(path.join(root, "a"), path.join(root, "state-a"), "shared"), stdio: "ignore", detached: true });
    let seenPart = false;
    for (let i = 0; i < 200 && !seenPart; i++) {
      seenPart = (await cacheFiles()).includes(`.${entry}.part`);
      if (!seenPart) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seenPart, "the download never started");
    process.kill(-up.pid!, "SIGKILL"); // the CLI, its language host and the provider
    assert.ok(!(await cacheFiles()).includes(entry), "a file is at the entry's path before it was checked");
    await pulumi("a", "cancel", "--yes").catch(() => undefined);
    await pulumi("a", "up", "--yes", "--skip-preview");
    const made = JSON.parse(await pulumi("a", "stack", "output", "--json")).path as string;
    assert.strictEqual(made, `${imageCacheDir(workDir)}/${entry}`);
    assert.strictEqual((await onHost().exec(["sha256sum", made])).stdout.split(" ")[0], sha("good.qcow2"));
    await pulumi("a", "destroy", "--yes", "--skip-preview");
  });
});
