/**
 * The fleet example with the QEMU guest agent through the real CLI, on the three SSH test hosts:
 * 4 members over 3 hosts on a private network with no forwarded ports (no way in but the agent).
 * A GuestCommand per member writes a file and reports the member's private address, a GuestFile
 * puts a config in each and a changed content updates it in place; each Vm's outputs list the
 * member's private address as its agent reports it. A failing command fails the update naming
 * the member, the exit code and stderr's tail. The members ignore ACPI: destroy stops each
 * through its agent's shutdown, before QMP quit.
 */
import * as assert from "assert";
import { randomBytes, createHash } from "crypto";
import { execFileSync } from "child_process";
import * as path from "path";
import { readFileSync } from "fs";
import { closeAllSshTransports } from "../../provider/transport";
import type { FleetMember } from "../../provider/fleet/inventory";
import type { GuestInterface } from "../../provider/vm/guestAgent";
import { liveQemuPids, vmQemuPids } from "../helpers/processes";
import { testbed } from "../testbed/testbed";
import { REPO } from "./engine";
import { capture, withStack, type StackHarness } from "./harness";

const EXAMPLE = path.join(REPO, "bin/examples/fleet/index.js");

describe("e2e: a fleet reached only through the guest agent, on a private network over three SSH hosts (real CLI)", function () {
  this.timeout(30 * 60 * 1000);
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const workDirs = bed.hosts.map((h) => `${h.workDir}/e2e-qga-${run}`);
  const program = async () => {
    delete require.cache[EXAMPLE];
    return require(EXAMPLE);
  };
  const configure = (h: StackHarness, extra: Record<string, string> = {}) => h.stack.setAllConfig({
    hosts: { value: JSON.stringify(bed.hosts.map((host, i) => ({
      name: host.name, address: host.address, lanAddress: host.lanAddress, port: host.port, user: bed.rootUser, hostKey: host.hostKey, workDir: workDirs[i] }))) },
    privateKeyFile: { value: bed.clientKey },
    guestDir: { value: bed.guest.dir },
    hostGuestDir: { value: bed.hosts[0].guestDir },
    count: { value: "4" },
    memory: { value: "160M" },
    networkSubnet: { value: "10.98.0.0/24" },
    guestAgent: { value: "true" },
    privateOnly: { value: "true" },
    guestToken: { value: TOKEN, secret: true },
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { value: v }])),
  });
  const TOKEN = `tok-${randomBytes(8).toString("hex")}`;
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  after(async () => {
    execFileSync("sh", ["-c", `pkill -KILL -f 'e2e-qga-${run}[/]' ; rm -rf ${workDirs.join(" ")}; exit 0`]);
    await closeAllSshTransports();
  });

  it("4 over 3 hosts, no forwards: commands report each private address, configs go in and update in place; a failing command names the member", async () => {
    await withStack("fleet-qga", program, async (h) => {
      await configure(h);
      const up = await h.stack.up(capture(h));
      const members: FleetMember[] = up.outputs.members.value;
      assert.deepStrictEqual(members.map((m) => m.host), ["h1", "h2", "h3", "h1"]);
      assert.deepStrictEqual(members.map((m) => m.sshPort), [0, 0, 0, 0], "a member has a forwarded SSH port");
      const privates = members.map((m) => m.privateAddress);
      assert.deepStrictEqual(privates, ["10.98.0.10", "10.98.0.11", "10.98.0.12", "10.98.0.13"]);
      // Each command ran in its own member and saw only the private NIC.
      assert.deepStrictEqual(up.outputs.guestReports.value, privates.map((a) => `${a}/24\n`));
      // The secret environment reached the guests and stays out of the state; what the commands printed is a secret there too.
      assert.strictEqual(up.outputs.guestReports.secret, true, "stdout of a command with a secret input is not secret");
      const state = readFileSync(h.stateFile, "utf8");
      assert.ok(!state.includes(TOKEN), "the token is in the state in clear text");
      assert.ok(!state.includes(`${privates[0]}/24\\n`), "a command's stdout is in the state in clear text");
      // Each Vm's outputs: the private address as the member's agent reports it.
      const reported = (up.outputs.guestAddresses.value as GuestInterface[][]).map((ifs) => ifs.flatMap((i) => i.addresses).filter((a) => !a.includes(":")));
      assert.deepStrictEqual(reported, privates.map((a) => [`${a}/24`]));
      assert.deepStrictEqual(up.outputs.guestConfigDigests.value, Array(4).fill(sha("role=member\n")));
      const pids = members.map((m) => vmQemuPids(m.name));

      // A changed content: four in-place updates, no VM restarted.
      await configure(h, { guestConfig: "role=member\nlog=debug\n" });
      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual({ update: preview.changeSummary.update, replace: preview.changeSummary.replace ?? 0 }, { update: 4, replace: 0 });
      const changed = await h.stack.up(capture(h));
      assert.deepStrictEqual(changed.outputs.guestConfigDigests.value, Array(4).fill(sha("role=member\nlog=debug\n")));
      assert.deepStrictEqual(members.map((m) => vmQemuPids(m.name)), pids, "a member was restarted");

      // A refresh reads each file's digest in its guest and runs no command again.
      const refreshed = await h.stack.refresh(capture(h));
      assert.strictEqual(refreshed.summary.result, "succeeded");
      assert.deepStrictEqual((await h.stack.preview(capture(h))).changeSummary.update ?? 0, 0, "a refresh left a change behind");

      // A failing command in member 1 fails the update with its name, the exit code and stderr's tail.
      await configure(h, { guestConfig: "role=member\nlog=debug\n", failMember: "1" });
      let said = "";
      await assert.rejects(h.stack.up({ onOutput: (s) => { said += s; } }));
      assert.match(said, /VM ci-1\.[0-9a-f]+: the create command exited with code 3; stderr ends with:\s+disk full on purpose/, said.slice(-3000));

      // The tiny guest ignores ACPI: each member stops through its agent's rung, never reaching QMP quit.
      await configure(h);
      let stopped = "";
      await h.stack.destroy({ onOutput: (s) => { stopped += s; } });
      for (const m of members) {
        assert.match(stopped, new RegExp(`VM ${m.name}\\.[0-9a-f]+: guest-shutdown`), `${m.name} did not stop through its agent`);
        assert.doesNotMatch(stopped, new RegExp(`VM ${m.name}\\.[0-9a-f]+: quit`), `${m.name} needed QMP quit`);
      }
      for (const m of members) assert.deepStrictEqual(vmQemuPids(m.name), [], `${m.name} still runs after destroy`);
      assert.deepStrictEqual(liveQemuPids(`e2e-qga-${run}/`), [], "a switch still runs after destroy");
    });
  });
});
