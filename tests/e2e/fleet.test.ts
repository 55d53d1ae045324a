/**
 * The fleet example through the real CLI on the three SSH test hosts: 6 members spread, every
 * guest answers SSH on its port, the inventory lists them; scaling 6 -> 8 -> 4 creates and
 * deletes exactly the members at the end and leaves the others running on their ports; a plan
 * too big for the hosts fails at preview with the numbers; destroy leaves nothing but a base
 * image another fleet still uses.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { closeAllSshTransports } from "../../provider/transport";
import type { FleetMember } from "../../provider/fleet/inventory";
import { procStat, vmQemuPids } from "../helpers/processes";
import { testbed } from "../testbed/testbed";
import { REPO } from "./engine";
import { capture, withStack, type StackHarness } from "./harness";
import { guestExec } from "../helpers/guest";
import { filesUnder as filesOn } from "../helpers/hostFiles";

const EXAMPLE = path.join(REPO, "bin/examples/fleet/index.js");

describe("e2e: the fleet example on three SSH hosts (real CLI)", function () {
  this.timeout(30 * 60 * 1000);
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const workDirs = bed.hosts.map((h) => `${h.workDir}/e2e-fleet-${run}`);
  const guestKey = `${bed.guest.dir}/id_ed25519`;
  const program = async () => {
    delete require.cache[EXAMPLE];
    return require(EXAMPLE);
  };
  const configure = (h: StackHarness, count: number, extra: Record<string, string> = {}) => h.stack.setAllConfig({
    hosts: { value: JSON.stringify(bed.hosts.map((host, i) => ({
      name: host.name, address: host.address, port: host.port, user: bed.rootUser, hostKey: host.hostKey, workDir: workDirs[i] }))) },
    privateKeyFile: { value: bed.clientKey },
    guestDir: { value: bed.guest.dir },
    hostGuestDir: { value: bed.hosts[0].guestDir },
    count: { value: String(count) },
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { value: v }])),
  });
  const pidOf = (member: string) => vmQemuPids(member);
  /** When a process started, ms after boot (USER_HZ 100). */
  const startTimeMs = (pid: number) => Number(procStat(pid)[19]) * 10;
  const guestAnswers = async (m: FleetMember) => (await guestExec({ host: m.sshHost, port: m.sshPort }, readFileSync(guestKey, "utf8"), ["hostname"])).exitCode === 0;
  // The capability reports' probe cache (.pulumi-qemu-probe) stays on a host by design: it is neither a disk nor a VM.
  const filesUnder = (dir: string) => filesOn(dir, "*/.pulumi-qemu-probe/*");
  after(async () => {
    execFileSync("sh", ["-c", `pkill -KILL -f 'e2e-fleet-${run}/vm[s]/' ; rm -rf ${workDirs.join(" ")}; exit 0`]);
    await closeAllSshTransports();
  });

  it("6 spread, SSH in each, inventory; 6 -> 8 -> 4 touches only the end; too big fails at preview; destroy cleans", async () => {
    // Another fleet (its own stack) on h1 with the same base image: destroy must leave that image.
    await withStack("fleet-other", async () => {
      const qemu = await import("../../sdk");
      const h1 = bed.hosts[0];
      const host = new qemu.Host("h1", { address: h1.address, user: bed.rootUser, privateKey: readFileSync(bed.clientKey, "utf8"), hostKey: h1.hostKey, workDir: workDirs[0] });
      const other = new qemu.Fleet("other", { hosts: { h1: host }, count: 1, template: {
        baseImage: `${bed.guest.dir}/base.qcow2`, memory: "128M", state: "stopped" } });
      return { members: other.members };
    }, async (otherStack) => {
      const otherUp = await otherStack.stack.up(capture(otherStack));
      assert.strictEqual(otherUp.outputs.members.value[0].status, "stopped");

      await withStack("fleet", program, async (h) => {
        await configure(h, 6);
        const preview = await h.stack.preview(capture(h));
        // stack, fleet, 3 hosts, 3 capability reports, 3 base images, the placement record, 6 disks, 6 VMs
        assert.deepStrictEqual(preview.changeSummary, { create: 24 });
        assert.match(h.output(), /qemu:index:Fleet/);

        const up = await h.stack.up(capture(h));
        const members: FleetMember[] = up.outputs.members.value;
        assert.deepStrictEqual(members.map((m) => m.host), ["h1", "h2", "h3", "h1", "h2", "h3"]);
        assert.ok(members.every((m) => m.status === "running"), JSON.stringify(members));
        for (const m of members) assert.ok(await guestAnswers(m), `${m.name} answers SSH on ${m.sshHost}:${m.sshPort}`);
        const inventory = parse(up.outputs.ansibleInventory.value);
        const listed = Object.values(inventory.all.children as Record<string, { hosts: Record<string, { ansible_host: string; ansible_port: number }> }>)
          .flatMap((g) => Object.entries(g.hosts).map(([name, v]) => `${name} ${v.ansible_host}:${v.ansible_port}`)).sort();
        assert.deepStrictEqual(listed, members.map((m) => `${m.name} ${m.sshHost}:${m.sshPort}`).sort());
        assert.strictEqual(new Set(members.map((m) => `${m.sshHost}:${m.sshPort}`)).size, 6);
        const pids = Object.fromEntries(members.map((m) => [m.name, pidOf(m.name)]));
        await h.stack.preview({ expectNoChanges: true, ...capture(h) });

        await configure(h, 8);
        const grow = await h.stack.preview(capture(h));
        assert.deepStrictEqual(grow.changeSummary, { create: 4, update: 1, same: 23 });
        const grown = (await h.stack.up(capture(h))).outputs.members.value as FleetMember[];
        assert.deepStrictEqual(grown.slice(0, 6), members, "surviving members keep host, port and state");
        assert.deepStrictEqual(grown.slice(6).map((m) => m.host), ["h1", "h2"]);
        for (const m of members) assert.deepStrictEqual(pidOf(m.name), pids[m.name], `${m.name} was restarted`);

        await configure(h, 4);
        const shrink = await h.stack.preview(capture(h));
        assert.deepStrictEqual(shrink.changeSummary, { delete: 8, update: 1, same: 19 });
        const shrunk = (await h.stack.up(capture(h))).outputs.members.value as FleetMember[];
        assert.deepStrictEqual(shrunk, members.slice(0, 4));
        for (const m of members.slice(0, 4)) assert.deepStrictEqual(pidOf(m.name), pids[m.name], `${m.name} was restarted`);
        for (const m of grown.slice(4)) assert.deepStrictEqual(pidOf(m.name), [], `${m.name} still runs`);

        // Too big: refused at preview with the numbers, nothing restarted.
        await configure(h, 4, { memory: "40G" });
        await assert.rejects(h.stack.preview(capture(h)), /template\.memory .*Fleet ci: 4 members \(0 of them new\) of 1 vCPU and 40\.0 GiB do not fit \(spread\): h1 has 2, room for 0: it has [\d.]+ GiB/);
        for (const m of members.slice(0, 4)) assert.deepStrictEqual(pidOf(m.name), pids[m.name]);
        await configure(h, 4, { memory: "192M" });

        // A template change with rollingUpdate: 4 updates with restart, one host at a time (each
        // host's new QEMU processes start at least a second after the previous host's: its boot).
        await configure(h, 4, { memory: "224M", rollingUpdate: "true" });
        assert.deepStrictEqual((await h.stack.preview(capture(h))).changeSummary, { update: 4, same: 16 });
        // The preview says what the updates do to the guests, not only which inputs changed.
        for (const m of members.slice(0, 4)) assert.match(h.output(), new RegExp(`pulumi-qemu: VM ${m.name}: the update restarts it \\(memory changed\\)`));
        await h.stack.up(capture(h));
        const restarts = members.slice(0, 4).map((m) => ({ host: m.host, pid: pidOf(m.name)[0], was: pids[m.name][0] }))
          .map((r) => ({ ...r, startMs: startTimeMs(r.pid) })).sort((a, b) => a.startMs - b.startMs);
        for (const r of restarts) assert.notStrictEqual(r.pid, r.was, `${r.host}: not restarted`);
        const order = restarts.map((r) => r.host).filter((host, i, all) => i === 0 || all[i - 1] !== host);
        assert.strictEqual(new Set(order).size, order.length, `hosts interleaved: ${JSON.stringify(restarts)}`);
        for (let i = 1; i < restarts.length; i++) {
          if (restarts[i].host === restarts[i - 1].host) continue;
          assert.ok(restarts[i].startMs - restarts[i - 1].startMs >= 1000, `${restarts[i].host} restarted while ${restarts[i - 1].host} was: ${JSON.stringify(restarts)}`);
        }

        // A rolling update to a template that never gets ready (16 MiB: the guest never boots)
        // stops after the first host: the other hosts' members run on untouched.
        const before = Object.fromEntries(members.slice(0, 4).map((m) => [m.name, pidOf(m.name)[0]]));
        await configure(h, 4, { memory: "16M", rollingUpdate: "true", readinessTimeoutMs: "15000" });
        await assert.rejects(h.stack.up(capture(h)));
        // Each member left alone says so (the CLI prints each error several times: live, failed, in the summary).
        const stopped = [...new Set([...h.output().matchAll(/VM (ci-\d): left as it was: the rolling update stopped on \S+, where VM ci-\d failed to restart/g)].map((m) => m[1]))].sort();
        const touched = members.slice(0, 4).filter((m) => pidOf(m.name)[0] !== before[m.name]);
        const firstHost = touched[0]?.host;
        assert.ok(firstHost, "no member was restarted at all");
        assert.ok(touched.every((m) => m.host === firstHost), `members of several hosts were restarted: ${touched.map((m) => `${m.name}@${m.host}`)}`);
        const leftAlone = members.slice(0, 4).filter((m) => m.host !== firstHost);
        assert.deepStrictEqual(stopped, leftAlone.map((m) => m.name).sort(), h.output());
        for (const m of leftAlone) assert.deepStrictEqual(pidOf(m.name), [before[m.name]], `${m.name} on ${m.host} was touched after ${firstHost} failed`);
        await configure(h, 4, { memory: "224M", rollingUpdate: "true" });
        await h.stack.up(capture(h));
        for (const m of members.slice(0, 4)) assert.ok(await guestAnswers(m), `${m.name} does not answer after the fix`);

        await h.stack.destroy(capture(h));
        for (const m of grown) assert.deepStrictEqual(pidOf(m.name), [], `${m.name} still runs after destroy`);
        assert.deepStrictEqual((await Promise.all(workDirs.slice(1).map(filesUnder))).flat(), [], "destroy left files on h2 or h3");
        const onH1 = (await filesUnder(workDirs[0])).map((f) => f.slice(workDirs[0].length + 1));
        assert.ok(onH1.some((f) => /^images\/base-[0-9a-f]{16}\.qcow2$/.test(f)), "the base image the other fleet uses was deleted");
        assert.ok(onH1.every((f) => /^images\/|^disks\/\.?other-0\.[0-9a-f]{8}\.qcow2(\.owner)?$|^vms\/other-0\.[0-9a-f]{8}\//.test(f)), onH1.join("\n"));
      });

      await otherStack.stack.destroy(capture(otherStack));
      assert.deepStrictEqual(await filesUnder(workDirs[0]), [], "the last fleet's destroy leaves the base image");
    });
  });
});
