/**
 * Issue 30's first "done when", with the tiny test guest (the real Debian image is not built yet):
 * two user projects of the fleet example (npm pack, real CLI) on the same three SSH hosts and
 * working directory, the base image given by URL and sha256 and served by the testbed's mirror in
 * h3's network namespace. The first stack's hosts download it once each; the second stack
 * downloads nothing (counted on the mirror); cloud-init's user-data ran in every member, which
 * answers SSH with the declared key; destroy keeps the cached image for the next user.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import { mkdirSync, readFileSync } from "fs";
import * as path from "path";
import { sshTransport } from "../../provider/transport";
import { imageCacheDir } from "../../provider/layout";
import type { FleetMember } from "../../provider/fleet/inventory";
import { guestExec } from "../helpers/guest";
import { startImageMirror, type ImageMirror } from "../helpers/imageServer";
import { liveQemuPids } from "../helpers/processes";
import { sshOptionsFor } from "../testbed/testbed";
import { REPO } from "./engine";
import { hostScratch } from "./hostScratch";
import { packTarball, projectsUnder, userProject } from "./userProject";

describe("e2e: a Fleet from an image URL over three SSH hosts, two stacks (npm pack, real CLI, test mirror)", function () {
  this.timeout(20 * 60 * 1000);
  let mirror: ImageMirror | undefined;
  const { bed, run, root, workDirs } = hostScratch("urlfleet", () => mirror?.stop());
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const pulumi = projectsUnder(root);
  const members = async (who: string): Promise<FleetMember[]> => JSON.parse(await pulumi(who, "stack", "output", "members", "--json"));
  const inGuest = async (m: FleetMember, script: string) => (await guestExec({ host: m.sshHost, port: m.sshPort }, guestKey, ["sh", "-c", script])).stdout.trim();

  it("each host downloads once; the second stack downloads nothing; user-data ran in every member; destroy keeps the cache", async () => {
    const base = path.join(bed.guest.dir, "base.qcow2");
    const sha256 = createHash("sha256").update(readFileSync(base)).digest("hex");
    mirror = await startImageMirror(bed.hosts[2], bed.guest.dir);
    const tarball = packTarball(root);
    const program = readFileSync(path.join(REPO, "bin/examples/fleet/index.js"), "utf8");
    const hosts = bed.hosts.map((h, i) => ({ name: h.name, address: h.address, lanAddress: h.lanAddress, port: h.port, user: bed.rootUser, hostKey: h.hostKey, workDir: workDirs[i] }));
    for (const who of ["a", "b"]) {
      userProject(path.join(root, who), "url-fleet", program, tarball);
      mkdirSync(path.join(root, `state-${who}`));
      await pulumi(who, "stack", "init", "ci");
      for (const [k, v] of Object.entries({
        hosts: JSON.stringify(hosts), privateKeyFile: bed.clientKey, guestDir: bed.guest.dir, hostGuestDir: bed.hosts[0].guestDir, count: "3",
        baseImageUrl: mirror.lanUrl("base.qcow2"), baseImageSha256: sha256, userData: `#!/bin/sh\necho written-by-user-data-${who} > /root/from-cloud-init\n`,
      })) await pulumi(who, "config", "set", k, v);
    }

    const upA = await pulumi("a", "up", "--yes", "--skip-preview");
    const served = () => mirror!.stats().then((s) => s["/base.qcow2"]?.requests ?? 0);
    assert.strictEqual(await served(), 3, "the three hosts did not download the image exactly once each");
    // The CLI prints each progress line as it comes and again in its summary: distinct lines count.
    const said = (out: string, what: RegExp) => new Set(out.split("\n").filter((l) => what.test(l)).map((l) => l.slice(l.indexOf("pulumi-qemu: ")))).size;
    assert.strictEqual(said(upA, /downloads it into/), 3, upA.slice(-3000));
    const a = await members("a");
    assert.deepStrictEqual(a.map((m) => [m.host, m.status]), [["h1", "running"], ["h2", "running"], ["h3", "running"]]);
    for (const m of a) assert.strictEqual(await inGuest(m, "cat /root/from-cloud-init"), "written-by-user-data-a", `${m.name}: user-data did not run`);

    const upB = await pulumi("b", "up", "--yes", "--skip-preview");
    assert.strictEqual(await served(), 3, "the second stack downloaded the image again");
    assert.strictEqual(said(upB, /already in the cache/), 3, upB.slice(-3000));
    for (const m of await members("b")) assert.strictEqual(await inGuest(m, "cat /root/from-cloud-init"), "written-by-user-data-b");

    await pulumi("a", "destroy", "--yes", "--skip-preview");
    await pulumi("b", "destroy", "--yes", "--skip-preview");
    assert.deepStrictEqual(liveQemuPids(`e2e-urlfleet-${run}/`), []);
    for (const [i, h] of bed.hosts.entries()) {
      const entry = `${imageCacheDir(workDirs[i])}/sha256-${sha256}.qcow2`;
      assert.strictEqual((await sshTransport(sshOptionsFor(h)).exec(["test", "-f", entry])).exitCode, 0, `${h.name}: destroy removed the cached image`);
    }
  });
});
