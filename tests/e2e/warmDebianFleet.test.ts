/**
 * Issue 32's warm start with the real guest: the testbed's Debian bookworm cloud image (its own
 * boot loader, systemd, cloud-init, sshd, qemu-guest-agent) from the test mirror, a Fleet of 3
 * over the three SSH hosts on a private network with `warmStart` and cloud-init user-data (npm
 * pack, real CLI). Each host boots the guest once with the seed and saves it after cloud-init
 * has finished; every member resumes it and is itself: cloud-init's user logs in with the
 * declared key and finds the member's hostname, cloud-init done, its own machine-id, SSH host
 * key, private address and MAC, and reaches the others privately. A member rebooted later keeps
 * its hostname and host key (cloud-init takes it for the instance it already set up).
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

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const qemu = require("pulumi-qemu");
const { readFileSync } = require("fs");
const config = new pulumi.Config();
const hosts = config.requireObject("hosts");
const privateKey = pulumi.secret(readFileSync(config.require("privateKeyFile"), "utf8"));
const guestKey = readFileSync(config.require("guestKeyFile") + ".pub", "utf8").trim();
const fleet = new qemu.Fleet("wdeb", {
  hosts: Object.fromEntries(hosts.map((h) => [h.name, new qemu.Host(h.name, { address: h.address, port: h.port, user: h.user, privateKey, hostKey: h.hostKey, workDir: h.workDir })])),
  count: 3,
  warmStart: true,
  network: { subnet: "10.98.0.0/24", hostAddresses: Object.fromEntries(hosts.map((h) => [h.name, h.lanAddress])) },
  template: {
    baseImage: { url: config.require("url"), sha256: config.require("sha256") },
    diskSize: "3G", memory: "768M", guestUser: "tester",
    cloudInit: { userData: {
      users: [{ name: "tester", shell: "/bin/bash", sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: [guestKey] }],
      write_files: [{ path: "/etc/pulumi-qemu-mark", content: "warm\\n" }],
    } },
    readiness: { cloudInit: true, guestPort: 22, timeoutMs: 900000 },
    guestAgent: true,
  },
});
exports.members = fleet.members;
exports.instanceIds = pulumi.all(Object.values(fleet.warmStates).map((s) => s.instanceId));
`;

describe("e2e: a warm Fleet of the real Debian cloud image with cloud-init, on a private network over three SSH hosts (npm pack, real CLI)", function () {
  this.timeout(40 * 60 * 1000);
  let mirror: ImageMirror | undefined;
  const { bed, run, root, workDirs } = hostScratch("warmdeb", () => mirror?.stop());
  const pulumi = projectsUnder(root);

  it("each host saves the guest once after cloud-init; 3 members resume it, each itself, reaching each other's sshd privately; a rebooted member stays itself", async () => {
    const sha256 = readFileSync(path.join(bed.debianImage.dir, `${IMAGE}.sha256`), "utf8").trim();
    const guestKeyFile = path.join(root, "guest_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", guestKeyFile]);
    const guestKey = readFileSync(guestKeyFile, "utf8");
    mirror = await startImageMirror(bed.hosts[2], bed.debianImage.dir);
    userProject(path.join(root, "a"), "warm-deb", PROGRAM, packTarball(root));
    mkdirSync(path.join(root, "state-a"));
    await pulumi("a", "stack", "init", "ci");
    const hosts = bed.hosts.map((h, i) => ({ name: h.name, address: h.address, lanAddress: h.lanAddress, port: h.port, user: bed.rootUser, hostKey: h.hostKey, workDir: workDirs[i] }));
    for (const [k, v] of Object.entries({ hosts: JSON.stringify(hosts), privateKeyFile: bed.clientKey, guestKeyFile, url: mirror.lanUrl(IMAGE), sha256 })) {
      await pulumi("a", "config", "set", k, v);
    }
    const said = await pulumi("a", "up", "--yes", "--skip-preview");
    assert.strictEqual(new Set(said.match(/WarmState \S+: booting the guest to save/g)).size, 3, said.slice(-3000));
    const members: FleetMember[] = JSON.parse(await pulumi("a", "stack", "output", "members", "--json"));
    for (const m of members) assert.match(said, new RegExp(`VM ${m.name}(\\.[0-9a-f]+)?: resumed from its WarmState`), `${m.name} booted instead of resuming`);
    assert.deepStrictEqual(members.map((m) => [m.host, m.status, m.sshUser]), [["h1", "running", "tester"], ["h2", "running", "tester"], ["h3", "running", "tester"]]);
    const instanceIds: string[] = JSON.parse(await pulumi("a", "stack", "output", "instanceIds", "--json"));
    assert.ok(instanceIds.every((id) => /^warm-[0-9a-f]{12}-[0-9a-f]{12}$/.test(id)), `instance-ids: ${instanceIds}`);

    const inGuest = async (m: FleetMember, script: string) => {
      const r = await guestExec({ host: m.sshHost, port: m.sshPort, user: "tester" }, guestKey, ["sh", "-c", script], 300000);
      assert.strictEqual(r.exitCode, 0, `${m.name}: ${r.stdout} ${r.stderr}`);
      return r.stdout.trim().split("\n");
    };
    const hostKey = (m: FleetMember) => execFileSync("ssh-keyscan", ["-T", "20", "-t", "ed25519", "-p", String(m.sshPort), m.sshHost], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split(/\s+/).pop();
    const identity = async (m: FleetMember) => {
      const [user, hostname, mark, status, machineId, instance, mac] = await inGuest(m, "id -un; hostname; cat /etc/pulumi-qemu-mark; cloud-init status --wait >/dev/null 2>&1; cloud-init status; cat /etc/machine-id; " +
        "sudo cat /var/lib/cloud/data/instance-id; " +
        `for n in /sys/class/net/*; do ip -o -4 addr show dev "\${n##*/}" | grep -q ' ${m.privateAddress}/' && cat "$n/address"; done; true`);
      return { user, hostname, mark, status, machineId, mac, instance, key: hostKey(m) };
    };
    const ids = await Promise.all(members.map(identity));
    for (const [i, m] of members.entries()) {
      const octets = m.privateAddress!.split(".").map((o) => Number(o).toString(16).padStart(2, "0")).join(":");
      assert.deepStrictEqual([ids[i].user, ids[i].hostname, ids[i].mark, ids[i].status, ids[i].mac, ids[i].instance],
        ["tester", m.name, "warm", "status: done", `52:54:${octets}`, instanceIds[i]], `${m.name}: ${JSON.stringify(ids[i])}`);
    }
    for (const k of ["machineId", "key"] as const) assert.strictEqual(new Set(ids.map((x) => x[k])).size, 3, `two members share a ${k}`);
    const addresses = members.map((m) => m.privateAddress!);
    for (const m of members) {
      // The image has no ping: a TCP connection to each other member's sshd, over the private network.
      const unanswered = await inGuest(m, `for a in ${addresses.filter((a) => a !== m.privateAddress).join(" ")}; do timeout 10 bash -c "exec 3<>/dev/tcp/$a/22" 2>/dev/null || echo "$a"; done; true`);
      assert.deepStrictEqual(unanswered.filter(Boolean), [], `${m.name} cannot reach every member privately`);
    }

    // A reboot of a member: cloud-init sees the same instance (no first-boot set-up again), and
    // sets the hostname from the member's own seed: it is still itself.
    const m0 = members[0];
    await guestExec({ host: m0.sshHost, port: m0.sshPort, user: "tester" }, guestKey, ["sh", "-c", "sudo systemctl reboot"], 60000).catch(() => undefined);
    // Until its SSH answers again (a forward whose guest is not listening closes at once: tried again).
    let after: Awaited<ReturnType<typeof identity>> | undefined;
    for (const until = Date.now() + 600000; !after;) {
      await new Promise((r) => setTimeout(r, 10000));
      after = await identity(m0).catch((e: Error) => { if (Date.now() > until) throw e; return undefined; });
    }
    const why = async () => (await inGuest(m0, "sudo cloud-init status --long; sudo grep -E 'WARNING|ERROR|Traceback|Error' /var/log/cloud-init.log | tail -n 30; ip -o addr; true")).join("\n");
    assert.deepStrictEqual([after.hostname, after.machineId, after.key, after.instance, after.status], [m0.name, ids[0].machineId, ids[0].key, instanceIds[0], "status: done"],
      `${m0.name} after a reboot: ${JSON.stringify(after)}\n${await why()}`);
    assert.strictEqual(after.mac, ids[0].mac, `${m0.name} lost its private address in the reboot`);

    await pulumi("a", "destroy", "--yes", "--skip-preview");
    assert.deepStrictEqual(liveQemuPids(`e2e-warmdeb-${run}/`), []);
  });
});
