/**
 * The fleet example on one private Network through the real CLI, on the three SSH test hosts:
 * 6 members spread over 3 hosts; from inside each guest (over its SSH) every other member
 * answers on its private address, members on other hosts too, and the outside is still reached
 * through user-mode networking; growing to 8 joins the new members without restarting the others;
 * every member is snapshotted, and one changed trigger reverts the whole dirtied fleet in place.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { closeAllSshTransports } from "../../provider/transport";
import type { FleetMember } from "../../provider/fleet/inventory";
import { liveQemuPids, vmQemuPids } from "../helpers/processes";
import { testbed } from "../testbed/testbed";
import { REPO } from "./engine";
import { capture, withStack, type StackHarness } from "./harness";
import { guestExec } from "../helpers/guest";

const EXAMPLE = path.join(REPO, "bin/examples/fleet/index.js");

describe("e2e: a fleet on one private network over three SSH hosts (real CLI)", function () {
  this.timeout(30 * 60 * 1000);
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const workDirs = bed.hosts.map((h) => `${h.workDir}/e2e-fnet-${run}`);
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const program = async () => {
    delete require.cache[EXAMPLE];
    return require(EXAMPLE);
  };
  const configure = (h: StackHarness, count: number, revert = "0") => h.stack.setAllConfig({
    hosts: { value: JSON.stringify(bed.hosts.map((host, i) => ({
      name: host.name, address: host.address, lanAddress: host.lanAddress, port: host.port, user: bed.rootUser, hostKey: host.hostKey, workDir: workDirs[i] }))) },
    privateKeyFile: { value: bed.clientKey },
    guestDir: { value: bed.guest.dir },
    hostGuestDir: { value: bed.hosts[0].guestDir },
    count: { value: String(count) },
    networkSubnet: { value: "10.99.0.0/24" },
    snapshot: { value: "clean" },
    revert: { value: revert },
  });
  const pidOf = (member: string) => vmQemuPids(member);
  /** From inside the member's guest: which of these addresses do not answer a ping. */
  const inMember = (m: FleetMember, argv: string[]) => guestExec({ host: m.sshHost, port: m.sshPort }, guestKey, argv);
  const unanswered = async (m: FleetMember, addresses: string[]) =>
    (await inMember(m, ["sh", "-c", 'for a in "$@"; do ping -c 1 -W 3 "$a" >/dev/null 2>&1 || ping -c 1 -W 3 "$a" >/dev/null 2>&1 || echo "$a"; done', "ping", ...addresses]))
      .stdout.split("\n").filter(Boolean);
  const inGuest = async (m: FleetMember, script: string) => (await inMember(m, ["sh", "-c", script])).stdout.trim();
  // The member's own host's sshd, reached through user-mode networking's NAT.
  const outsideAnswers = async (m: FleetMember) => (await inMember(m, ["sh", "-c", `echo | nc -w 3 ${m.sshHost} 22 | head -c 7`])).stdout === "SSH-2.0";
  after(async () => {
    execFileSync("sh", ["-c", `pkill -KILL -f 'e2e-fnet-${run}[/]' ; rm -rf ${workDirs.join(" ")}; exit 0`]);
    await closeAllSshTransports();
  });

  it("6 over 3 hosts: every member pings every other privately and reaches the outside; 6 -> 8 joins without restarts; one trigger reverts all 8", async () => {
    await withStack("fleet-net", program, async (h) => {
      await configure(h, 6);
      const up = await h.stack.up(capture(h));
      const members: FleetMember[] = up.outputs.members.value;
      assert.deepStrictEqual(members.map((m) => m.host), ["h1", "h2", "h3", "h1", "h2", "h3"]);
      assert.deepStrictEqual(members.map((m) => m.privateAddress), ["10.99.0.10", "10.99.0.11", "10.99.0.12", "10.99.0.13", "10.99.0.14", "10.99.0.15"]);
      const inventory = parse(up.outputs.ansibleInventory.value);
      assert.strictEqual(inventory.all.children.h2.hosts["ci-1"].private_address, "10.99.0.11");
      for (const m of members) {
        assert.deepStrictEqual(await unanswered(m, members.filter((o) => o !== m).map((o) => o.privateAddress!)), [], `${m.name} (${m.host}) cannot reach these`);
        assert.ok(await outsideAnswers(m), `${m.name} does not reach the outside`);
      }
      const pids = Object.fromEntries(members.map((m) => [m.name, pidOf(m.name)]));

      await configure(h, 8);
      const grown = (await h.stack.up(capture(h))).outputs.members.value as FleetMember[];
      assert.deepStrictEqual(grown.slice(0, 6), members, "surviving members keep host, port and address");
      for (const m of members) assert.deepStrictEqual(pidOf(m.name), pids[m.name], `${m.name} was restarted`);
      const all = grown.map((m) => m.privateAddress!);
      for (const m of grown.slice(6)) assert.deepStrictEqual(await unanswered(m, all.filter((a) => a !== m.privateAddress)), [], `${m.name} cannot reach these`);
      assert.deepStrictEqual(await unanswered(members[2], all.slice(6)), [], "an old member cannot reach the new ones");

      // A test run dirties every member; one changed trigger brings the whole fleet back, in place.
      const grownPids = Object.fromEntries(grown.map((m) => [m.name, pidOf(m.name)]));
      for (const m of grown) await inGuest(m, "echo dirty > /tmp/run");
      await configure(h, 8, "1");
      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual({ update: preview.changeSummary.update, replace: preview.changeSummary.replace ?? 0 }, { update: 8, replace: 0 });
      await h.stack.up(capture(h));
      for (const m of grown) {
        assert.strictEqual(await inGuest(m, "cat /tmp/run 2>/dev/null || echo clean"), "clean", `${m.name} was not reverted`);
        assert.deepStrictEqual(pidOf(m.name).length, 1, `${m.name} is not running`);
      }
      for (const m of grown) assert.deepStrictEqual(pidOf(m.name), grownPids[m.name], `${m.name} was restarted by the revert`);
      assert.deepStrictEqual(await unanswered(grown[7], all.filter((a) => a !== grown[7].privateAddress)), [], "after the revert the network does not carry");

      await h.stack.destroy(capture(h));
      for (const m of grown) assert.deepStrictEqual(pidOf(m.name), [], `${m.name} still runs after destroy`);
      assert.deepStrictEqual(liveQemuPids(`e2e-fnet-${run}/`), [], "a switch still runs after destroy");
    });
  });
});
