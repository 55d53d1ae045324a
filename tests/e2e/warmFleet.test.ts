/**
 * The fleet example with `warmStart` through the real CLI, on the three SSH test hosts: 6
 * members over 3 hosts on a private network, each resumed from its host's WarmState (the tiny
 * guest booted once per host and saved running) instead of booting. Every member is itself:
 * its own hostname, machine-id, SSH host key, private address and MAC, and it pings every other.
 * Growing to 8 resumes the new members too; destroy leaves only the saved states, which gc
 * --images removes once nothing uses them.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import * as path from "path";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import type { FleetMember } from "../../provider/fleet/inventory";
import { removeUnusedWarmStates } from "../../provider/resources/warmState";
import { liveQemuPids, vmQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { REPO } from "./engine";
import { capture, withStack, type StackHarness } from "./harness";
import { guestExec } from "../helpers/guest";

const EXAMPLE = path.join(REPO, "bin/examples/fleet/index.js");

describe("e2e: a warm fleet on a private network over three SSH hosts: members resume a saved guest (real CLI)", function () {
  this.timeout(30 * 60 * 1000);
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const workDirs = bed.hosts.map((h) => `${h.workDir}/e2e-warm-${run}`);
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const program = async () => {
    delete require.cache[EXAMPLE];
    return require(EXAMPLE);
  };
  const configure = (h: StackHarness, count: number) => h.stack.setAllConfig({
    hosts: { value: JSON.stringify(bed.hosts.map((host, i) => ({
      name: host.name, address: host.address, lanAddress: host.lanAddress, port: host.port, user: bed.rootUser, hostKey: host.hostKey, workDir: workDirs[i] }))) },
    privateKeyFile: { value: bed.clientKey },
    guestDir: { value: bed.guest.dir },
    hostGuestDir: { value: bed.hosts[0].guestDir },
    count: { value: String(count) },
    memory: { value: "160M" },
    networkSubnet: { value: "10.97.0.0/24" },
    guestAgent: { value: "true" },
    warmStart: { value: "true" },
  });
  const inGuest = async (m: FleetMember, script: string) => (await guestExec({ host: m.sshHost, port: m.sshPort }, guestKey, ["sh", "-c", script])).stdout.trim();
  const hostKey = (m: FleetMember) => execFileSync("ssh-keyscan", ["-T", "20", "-t", "ed25519", "-p", String(m.sshPort), m.sshHost], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split(/\s+/).pop();
  /** What makes a member itself, as seen inside it: hostname, machine-id, and the MAC of the NIC with its private address. */
  const identity = async (m: FleetMember) => {
    const [hostname, machineId, mac] = (await inGuest(m, `hostname; cat /etc/machine-id; for n in /sys/class/net/*; do ip -o -4 addr show dev "\${n##*/}" | grep -q ' ${m.privateAddress}/' && cat "$n/address"; done`)).split("\n");
    return { hostname, machineId, mac, key: hostKey(m) };
  };
  const unanswered = async (m: FleetMember, addresses: string[]) =>
    (await inGuest(m, `for a in ${addresses.join(" ")}; do ping -c 1 -W 3 "$a" >/dev/null 2>&1 || ping -c 1 -W 3 "$a" >/dev/null 2>&1 || echo "$a"; done`)).split("\n").filter(Boolean);
  const resumed = (said: string, member: string) => new RegExp(`VM ${member}(\\.[0-9a-f]+)?: resumed from its WarmState`).test(said);
  after(async () => {
    execFileSync("sh", ["-c", `pkill -KILL -f 'e2e-warm-${run}[/]' ; rm -rf ${workDirs.join(" ")}; exit 0`]);
    await closeAllSshTransports();
  });

  it("6 over 3 hosts resume their host's saved guest, each itself, all pinging each other; 8 resume too; destroy leaves only the states, which gc removes", async () => {
    await withStack("fleet-warm", program, async (h) => {
      await configure(h, 6);
      let said = "";
      const up = await h.stack.up({ ...capture(h), onOutput: (s) => { said += s; } });
      const members: FleetMember[] = up.outputs.members.value;
      assert.deepStrictEqual(members.map((m) => m.host), ["h1", "h2", "h3", "h1", "h2", "h3"]);
      // One saved guest per host, booted once; every member resumed it.
      // (The engine prints each progress line live and again in its summary: count the states, not the lines.)
      assert.strictEqual(new Set(said.match(/WarmState \S+: booting the guest to save/g)).size, 3, said.slice(-3000));
      for (const m of members) assert.ok(resumed(said, m.name), `${m.name} booted instead of resuming`);

      const ids = await Promise.all(members.map(identity));
      for (const [i, m] of members.entries()) {
        assert.strictEqual(ids[i].hostname, m.name);
        assert.match(ids[i].machineId, /^[0-9a-f]{32}$/);
        const octets = m.privateAddress!.split(".").map((o) => Number(o).toString(16).padStart(2, "0")).join(":");
        assert.strictEqual(ids[i].mac, `52:54:${octets}`, `${m.name} has not its own MAC on its private address`);
      }
      for (const k of ["hostname", "machineId", "mac", "key"] as const) {
        assert.strictEqual(new Set(ids.map((x) => x[k])).size, 6, `two members share a ${k}: ${ids.map((x) => x[k])}`);
      }
      const addresses = members.map((m) => m.privateAddress!);
      for (const m of members) assert.deepStrictEqual(await unanswered(m, addresses.filter((a) => a !== m.privateAddress)), [], `${m.name} cannot reach every member`);

      // Grown to 8: the new members resume the saved guests (no new build); the others stay as they run.
      const pids = members.map((m) => vmQemuPids(m.name));
      await configure(h, 8);
      said = "";
      const grown = (await h.stack.up({ ...capture(h), onOutput: (s) => { said += s; } })).outputs.members.value as FleetMember[];
      assert.doesNotMatch(said, /booting the guest to save/);
      for (const m of grown.slice(6)) assert.ok(resumed(said, m.name), `${m.name} booted instead of resuming`);
      assert.deepStrictEqual(members.map((m) => vmQemuPids(m.name)), pids, "a member was restarted by the growth");
      const more = await Promise.all(grown.slice(6).map(identity));
      assert.strictEqual(new Set([...ids, ...more].map((x) => x.machineId)).size, 8);
      assert.strictEqual(new Set([...ids, ...more].map((x) => x.key)).size, 8);
      assert.deepStrictEqual(await unanswered(grown[7], grown.slice(0, 7).map((m) => m.privateAddress!)), []);

      await h.stack.destroy(capture(h));
      assert.deepStrictEqual(liveQemuPids(`e2e-warm-${run}/`), [], "a QEMU still runs after destroy");
      // Only the saved guests stay (and the shared base image the fleet uploaded), nothing of a member.
      const ls = async (i: number, dir: string) => (await sshTransport(sshOptionsFor(bed.hosts[i])).exec(["sh", "-c", 'ls -A "$1" 2>/dev/null; exit 0', "ls", `${workDirs[i]}/${dir}`])).stdout.split("\n").filter(Boolean);
      for (const i of bed.hosts.keys()) {
        assert.deepStrictEqual(await ls(i, "vms"), [], `${bed.hosts[i].name}: a member's state directory is left`);
        assert.strictEqual((await ls(i, "warm")).filter((d) => /^[0-9a-f]{32}$/.test(d)).length, 1, `${bed.hosts[i].name}: not one saved guest`);
      }
      for (const [i, host] of bed.hosts.entries()) {
        const removed = await removeUnusedWarmStates(sshTransport(sshOptionsFor(host)), workDirs[i], () => undefined);
        assert.strictEqual(removed.length, 1, `gc did not remove ${host.name}'s saved guest`);
        assert.deepStrictEqual(await ls(i, "warm"), []);
        // The fleet's uploaded base, kept by destroy while the saved guest's disk was its clone, goes with it.
        assert.deepStrictEqual(await ls(i, "images"), [], `${host.name}: the fleet's base image is left`);
      }
    });
  });
});
