/**
 * Issue 30's first "done when" with the real guest: the Debian bookworm cloud image built by
 * tests/testbed/debian-image.sh (its own boot loader, systemd, cloud-init, sshd), served by the
 * testbed's mirror in h3's network namespace. Two stacks of one Fleet program (npm pack, real CLI)
 * on the three SSH hosts and one working directory: the first stack's hosts download it once
 * each, the second downloads nothing (counted on the mirror); cloud-init creates the declared user
 * with the declared key, sets the hostname, writes the file and runs the command, and each member answers SSH as
 * that user, and the image's own guest agent answers (its OS name, a GuestCommand in each
 * member); the first stack's members are on a private network, each with its address from the
 * network-config the Fleet adds to its seed; destroy keeps the cached image.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdirSync, readFileSync } from "fs";
import * as path from "path";
import type { FleetMember } from "../../provider/fleet/inventory";
import { guestExec } from "../helpers/guest";
import { startImageMirror, type ImageMirror } from "../helpers/imageServer";
import { liveQemuPids } from "../helpers/processes";
import { hostScratch } from "./hostScratch";
import { packTarball, projectsUnder, userProject } from "./userProject";

const IMAGE = "debian-12-pulumi-qemu.qcow2";

/** The program: a Fleet of 3 from the image URL, cloud-init user-data, readiness when cloud-init has finished. */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const qemu = require("pulumi-qemu");
const { readFileSync } = require("fs");
const config = new pulumi.Config();
const hosts = config.requireObject("hosts");
const privateKey = pulumi.secret(readFileSync(config.require("privateKeyFile"), "utf8"));
const fleet = new qemu.Fleet("deb", {
  hosts: Object.fromEntries(hosts.map((h) => [h.name, new qemu.Host(h.name, { address: h.address, port: h.port, user: h.user, privateKey, hostKey: h.hostKey, workDir: h.workDir })])),
  count: 3,
  // On a private network (stack a): each member's seed gets a network-config with its address.
  ...(config.get("subnet") ? { network: { subnet: config.require("subnet"), hostAddresses: Object.fromEntries(hosts.map((h) => [h.name, h.lanAddress])) } } : {}),
  template: {
    baseImage: { url: config.require("url"), sha256: config.require("sha256") },
    diskSize: "3G", memory: "768M", guestUser: "tester",
    guestPrivateKey: pulumi.secret(readFileSync(config.require("guestKeyFile"), "utf8")),
    cloudInit: { userData: {
      users: [{ name: "tester", shell: "/bin/bash", sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: [readFileSync(config.require("guestKeyFile") + ".pub", "utf8").trim()] }],
      write_files: [{ path: "/etc/pulumi-qemu-mark", content: config.require("mark") + "\\n" }],
      runcmd: [["sh", "-c", "echo ran > /var/tmp/runcmd-ran"]],
    } },
    readiness: { cloudInit: true, guestPort: 22, guestAgent: true, timeoutMs: 900000 },
    guestAgent: true,
  },
});
exports.members = fleet.members;
// The image's own qemu-guest-agent: its OS name, and a command run through it in every member.
exports.os = pulumi.all(fleet.vms.map((vm) => vm.guestOs));
exports.agentSays = pulumi.all(fleet.vms.map((vm, i) => new qemu.GuestCommand("status-" + i, { vm, create: "cloud-init status; cat /etc/pulumi-qemu-mark" }).stdout));
`;

/** One VM of the image on one host, with user-data that is not YAML: the up must fail with cloud-init's words. */
const BROKEN = `
const pulumi = require("@pulumi/pulumi");
const qemu = require("pulumi-qemu");
const { readFileSync } = require("fs");
const config = new pulumi.Config();
const h = config.requireObject("host");
const host = new qemu.Host("h", { address: h.address, port: h.port, user: h.user, privateKey: pulumi.secret(readFileSync(config.require("privateKeyFile"), "utf8")), hostKey: h.hostKey, workDir: h.workDir });
const image = new qemu.Image("debian", { host: host.connection, url: config.require("url"), sha256: config.require("sha256") });
const disk = new qemu.Disk("root", { host: host.connection, backingImage: image.path, size: "3G" });
new qemu.Vm("broken", { host: host.connection, memory: "768M", disks: [disk.path], ports: [{ guest: 22 }],
  cloudInit: { userData: "#cloud-config\\nusers: [ {name: tester\\nruncmd:\\n  - [ true ]\\n" },
  readiness: { cloudInit: true, timeoutMs: 900000 } });
`;

describe("e2e: a Fleet of the real Debian cloud image from its URL, two stacks (npm pack, real CLI, test mirror)", function () {
  this.timeout(40 * 60 * 1000);
  let mirror: ImageMirror | undefined;
  const { bed, run, root, workDirs } = hostScratch("debfleet", () => mirror?.stop());
  const pulumi = projectsUnder(root);
  const members = async (who: string): Promise<FleetMember[]> => JSON.parse(await pulumi(who, "stack", "output", "members", "--json"));

  it("each host downloads it once, the second stack not at all; cloud-init's user logs in with the declared key and finds its hostname and file", async () => {
    const sha256 = readFileSync(path.join(bed.debianImage.dir, `${IMAGE}.sha256`), "utf8").trim();
    const guestKey = path.join(root, "guest_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", guestKey]);
    mirror = await startImageMirror(bed.hosts[2], bed.debianImage.dir);
    const tarball = packTarball(root);
    const hosts = bed.hosts.map((h, i) => ({ name: h.name, address: h.address, lanAddress: h.lanAddress, port: h.port, user: bed.rootUser, hostKey: h.hostKey, workDir: workDirs[i] }));
    for (const who of ["a", "b"]) {
      userProject(path.join(root, who), "deb-fleet", PROGRAM, tarball);
      mkdirSync(path.join(root, `state-${who}`));
      await pulumi(who, "stack", "init", "ci");
      for (const [k, v] of Object.entries({ hosts: JSON.stringify(hosts), privateKeyFile: bed.clientKey, guestKeyFile: guestKey, url: mirror.lanUrl(IMAGE), sha256, mark: `stack-${who}`,
        ...(who === "a" ? { subnet: "10.99.0.0/24" } : {}) })) {
        await pulumi(who, "config", "set", k, v);
      }
    }
    const served = async () => (await mirror!.stats())[`/${IMAGE}`] ?? { requests: 0, bytes: 0, ranges: [] };
    const size = readFileSync(path.join(bed.debianImage.dir, IMAGE)).length;
    const key = readFileSync(guestKey, "utf8");
    const check = async (who: string) => {
      const list = await members(who);
      assert.deepStrictEqual(list.map((m) => [m.host, m.status, m.sshUser]), [["h1", "running", "tester"], ["h2", "running", "tester"], ["h3", "running", "tester"]]);
      for (const m of list) {
        const seen = await guestExec({ host: m.sshHost, port: m.sshPort, user: "tester" }, key, ["sh", "-c", "id -un; hostname; cat /etc/pulumi-qemu-mark /var/tmp/runcmd-ran; cloud-init status"]);
        assert.deepStrictEqual(seen.stdout.trim().split("\n"), ["tester", m.name, `stack-${who}`, "ran", "status: done"], `${who}/${m.name}: ${seen.stdout} ${seen.stderr}`);
      }
      if (who === "a") {
        // Each member has its address on its private NIC (from the network-config the Fleet wrote) and reaches the others' sshd over it (the image has no ping).
        for (const m of list) {
          const others = list.filter((o) => o !== m).map((o) => o.privateAddress!);
          const seen = await guestExec({ host: m.sshHost, port: m.sshPort, user: "tester" }, key, ["sh", "-c",
            `ip -o -4 addr | grep -c ' ${m.privateAddress}/24 '; for a in ${others.join(" ")}; do timeout 10 bash -c "exec 3<>/dev/tcp/$a/22" 2>/dev/null || echo "$a"; done`]);
          assert.deepStrictEqual(seen.stdout.trim().split("\n"), ["1"], `${m.name} (${m.privateAddress}): ${seen.stdout} ${seen.stderr}`);
        }
      }
      assert.deepStrictEqual(JSON.parse(await pulumi(who, "stack", "output", "os", "--json")), Array(3).fill("Debian GNU/Linux 12 (bookworm)"));
      assert.deepStrictEqual(JSON.parse(await pulumi(who, "stack", "output", "agentSays", "--json")), Array(3).fill(`status: done\nstack-${who}\n`));
    };

    await pulumi("a", "up", "--yes", "--skip-preview");
    assert.deepStrictEqual([(await served()).requests, (await served()).bytes], [3, 3 * size], "the hosts did not download it exactly once each");
    await check("a");
    await pulumi("b", "up", "--yes", "--skip-preview");
    assert.strictEqual((await served()).requests, 3, "the second stack downloaded the image again");
    await check("b");

    await pulumi("a", "destroy", "--yes", "--skip-preview");
    await pulumi("b", "destroy", "--yes", "--skip-preview");
    assert.deepStrictEqual(liveQemuPids(`e2e-debfleet-${run}/`), []);
  });

  it("user-data that is not YAML fails the up within a minute of cloud-init's report, quoting it; nothing of the VM is left", async () => {
    const sha256 = readFileSync(path.join(bed.debianImage.dir, `${IMAGE}.sha256`), "utf8").trim();
    mirror ??= await startImageMirror(bed.hosts[2], bed.debianImage.dir);
    const h = bed.hosts[0];
    userProject(path.join(root, "c"), "deb-broken", BROKEN, packTarball(root));
    mkdirSync(path.join(root, "state-c"));
    await pulumi("c", "stack", "init", "ci");
    for (const [k, v] of Object.entries({ host: JSON.stringify({ address: h.address, port: h.port, user: bed.rootUser, hostKey: h.hostKey, workDir: workDirs[0] }), privateKeyFile: bed.clientKey, url: mirror.lanUrl(IMAGE), sha256 })) {
      await pulumi("c", "config", "set", k, v);
    }
    const failed = await pulumi("c", "up", "--yes", "--skip-preview").then(() => "", (e: Error) => e.message);
    const endedAt = Date.now();
    assert.match(failed, /cloud-init reported a problem before it finished:/, failed.slice(-3000));
    assert.match(failed, /WARNING: Failed loading yaml blob/);
    assert.match(failed, /users: \[ \{name: tester/, `cloud-init's own detail (the YAML line) is not quoted:\n${failed.slice(-3000)}`);
    // cloud-init's report carries the guest's clock (UTC, from the host's RTC): the up ended within a minute of it.
    const reportedAt = Date.parse(`${/(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC WARNING/.exec(failed)![1].replace(" ", "T")}Z`);
    assert.ok(endedAt - reportedAt < 60000, `the up ended ${(endedAt - reportedAt) / 1000} s after cloud-init's report`);
    assert.deepStrictEqual(liveQemuPids(`e2e-debfleet-${run}/`), [], "the failed VM's QEMU is left");
    await pulumi("c", "destroy", "--yes", "--skip-preview");
  });
});
