/**
 * Issue 27's first "done when", through the real CLI: two user projects with the same fleet
 * program (the same names, the same three SSH hosts, the same working directory, the same private
 * subnet and addresses), brought up at the same time. Both come up; each member answers on its own
 * forwarded port, and over its private network reaches its own stack's members only (the same
 * addresses answer with the other stack's mark nowhere); each destroy removes only its own.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { closeAllSshTransports } from "../../provider/transport";
import type { FleetMember } from "../../provider/fleet/inventory";
import { guestExec } from "../helpers/guest";
import { isAlive, killProcess, liveQemuPids } from "../helpers/processes";
import { testbed } from "../testbed/testbed";
import { REPO } from "./engine";
import { packTarball, projectsUnder, userProject } from "./userProject";

const STACKS = ["a", "b"] as const;

describe("e2e: the same fleet program twice at once on the same hosts and working directory (npm pack, real CLI)", function () {
  this.timeout(20 * 60 * 1000);
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const root = mkdtempSync(path.join(tmpdir(), "pq-sfleet-"));
  const workDirs = bed.hosts.map((h) => `${h.workDir}/e2e-sfleet-${run}`);
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  after(async () => {
    for (const pid of liveQemuPids(`e2e-sfleet-${run}/`)) killProcess(pid); // a failed test's VMs and switches
    for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
    await closeAllSshTransports();
  });

  const pulumi = projectsUnder(root);
  const members = async (who: string): Promise<FleetMember[]> => JSON.parse(await pulumi(who, "stack", "output", "members", "--json"));
  const inGuest = async (m: FleetMember, script: string) => (await guestExec({ host: m.sshHost, port: m.sshPort }, guestKey, ["sh", "-c", script])).stdout.trim();
  /** What each of `addresses` serves as its stack's mark, asked from inside member `m` over the private network. */
  const marksSeenFrom = (m: FleetMember, addresses: string[]) =>
    // busybox's wget crashes in this guest (no resolver libraries); a bare HTTP request through nc does not.
    inGuest(m, `for a in ${addresses.join(" ")}; do printf 'GET /mark HTTP/1.0\\r\\n\\r\\n' | nc -w 5 "$a" 7777 2>/dev/null | tail -n 1 | grep . || echo none; done`);

  it("both come up side by side; each member answers on its own port and reaches only its own stack over the private network; each destroy removes its own", async () => {
    const tarball = packTarball(root);
    const program = readFileSync(path.join(REPO, "bin/examples/fleet/index.js"), "utf8");
    const hosts = bed.hosts.map((h, i) => ({ name: h.name, address: h.address, lanAddress: h.lanAddress, port: h.port, user: bed.rootUser, hostKey: h.hostKey, workDir: workDirs[i] }));
    for (const who of STACKS) {
      userProject(path.join(root, who), "fleet-lab", program, tarball); // the same program, checked out twice
      mkdirSync(path.join(root, `state-${who}`));
      await pulumi(who, "stack", "init", "ci");
      for (const [k, v] of Object.entries({ hosts: JSON.stringify(hosts), privateKeyFile: bed.clientKey, guestDir: bed.guest.dir, hostGuestDir: bed.hosts[0].guestDir, count: "3", networkSubnet: "10.99.0.0/24" })) {
        await pulumi(who, "config", "set", k, v);
      }
    }

    await Promise.all(STACKS.map((who) => pulumi(who, "up", "--yes", "--skip-preview")));
    const [a, b] = await Promise.all(STACKS.map(members));
    for (const list of [a, b]) {
      assert.deepStrictEqual(list.map((m) => [m.name, m.host, m.privateAddress, m.status]),
        [["ci-0", "h1", "10.99.0.10", "running"], ["ci-1", "h2", "10.99.0.11", "running"], ["ci-2", "h3", "10.99.0.12", "running"]]);
    }
    a.forEach((m, i) => assert.notStrictEqual(m.sshPort, b[i].sshPort, `${m.name}: both stacks forward the same host port`));

    // Each member is marked through its own forwarded port, and serves its mark on the private network.
    for (const [who, list] of [["a", a], ["b", b]] as const) {
      for (const m of list) await inGuest(m, `mkdir -p /tmp/www && echo ${who}-${m.name} > /tmp/www/mark && httpd -p 7777 -h /tmp/www`);
    }
    for (const [who, list] of [["a", a], ["b", b]] as const) {
      for (const m of list) {
        const others = list.filter((o) => o !== m);
        assert.strictEqual(await marksSeenFrom(m, others.map((o) => o.privateAddress!)), others.map((o) => `${who}-${o.name}`).join("\n"),
          `from stack ${who}'s ${m.name}, the private addresses do not all answer with stack ${who}'s members`);
      }
    }

    const before = liveQemuPids(`e2e-sfleet-${run}/`);
    assert.strictEqual(before.length, 12, "not 6 VMs and 6 switches (3 per stack)");
    await pulumi("a", "destroy", "--yes", "--skip-preview");
    const left = before.filter(isAlive);
    assert.strictEqual(left.length, 6, "a's destroy did not stop exactly its own 3 VMs and 3 switches");
    assert.strictEqual(await marksSeenFrom(b[0], [b[1].privateAddress!, b[2].privateAddress!]), "b-ci-1\nb-ci-2", "after a's destroy, b's network does not carry");
    await pulumi("b", "refresh", "--yes", "--expect-no-changes", "--skip-preview");
    await pulumi("b", "destroy", "--yes", "--skip-preview");
    assert.deepStrictEqual(liveQemuPids(`e2e-sfleet-${run}/`), []);
  });
});
