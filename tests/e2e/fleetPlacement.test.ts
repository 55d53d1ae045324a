/**
 * Issue 28, "members stay put", through the real CLI on the SSH test hosts: a fleet of four named
 * members over two hosts; removing a middle name, adding a host (and a member), and changing the
 * template's memory under `pack` move no member and replace no disk (the clone files keep their
 * inodes); a pin moves one member, and the preview names it and says its disk is made anew.
 * Members are declared stopped: placement and disks are what is tested, not boots.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import { closeAllSshTransports } from "../../provider/transport";
import type { FleetMember } from "../../provider/fleet/inventory";
import { inodeOf, transportForPath } from "../helpers/hostFiles";
import { testbed } from "../testbed/testbed";
import { capture, withStack } from "./harness";

describe("e2e: fleet members stay on their hosts (real CLI)", function () {
  this.timeout(20 * 60 * 1000);
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const workDirs = bed.hosts.map((h) => `${h.workDir}/e2e-place-${run}`);
  after(async () => {
    for (const dir of workDirs) await transportForPath(dir).exec(["rm", "-rf", "--", dir]);
    await closeAllSshTransports();
  });

  // What the program declares; each step changes it and runs preview and up.
  let spec = { hostCount: 2, names: ["web", "db", "cache", "queue"], memory: "128M", placement: "spread" as "spread" | "pack", pin: undefined as Record<string, string> | undefined };

  it("removing a middle name, adding a host, changing memory under pack: no move, no disk replaced; a pin moves one and the preview says so", async () => {
    await withStack("fleet-place", async () => {
      const qemu = await import("../../sdk");
      const hosts = Object.fromEntries(bed.hosts.slice(0, spec.hostCount).map((h, i) => [h.name, new qemu.Host(h.name, {
        address: h.address, port: h.port, user: bed.rootUser, privateKey: readFileSync(bed.clientKey, "utf8"), hostKey: h.hostKey, workDir: workDirs[i] })]));
      const fleet = new qemu.Fleet("lab", { hosts, names: spec.names, placement: spec.placement, pin: spec.pin, template: {
        baseImage: `${bed.guest.dir}/base.qcow2`, memory: spec.memory, state: "stopped" } });
      return { members: fleet.members, disks: fleet.disks.map((d) => d.path) };
    }, async (h) => {
      const up = async () => {
        const r = await h.stack.up(capture(h));
        const members = r.outputs.members.value as FleetMember[];
        const disks = r.outputs.disks.value as string[];
        return {
          hosts: Object.fromEntries(members.map((m) => [m.name, m.host])),
          disks: Object.fromEntries(members.map((m, i) => [m.name, disks[i]])),
          inodes: Object.fromEntries(await Promise.all(members.map(async (m, i) => [m.name, await inodeOf(disks[i])]))),
        };
      };
      const noReplace = async (what: string) => {
        const preview = await h.stack.preview(capture(h));
        assert.ok(!preview.changeSummary.replace, `${what}: the preview replaces ${preview.changeSummary.replace}: ${JSON.stringify(preview.changeSummary)}`);
        assert.doesNotMatch(h.output(), /moves from/, what);
        return preview.changeSummary;
      };

      const first = await up();
      assert.deepStrictEqual(first.hosts, { web: "h1", db: "h2", cache: "h1", queue: "h2" });

      // Before the placement was recorded, cache and queue swapped hosts here (position-based).
      spec = { ...spec, names: ["web", "cache", "queue"] };
      const removal = await noReplace("remove db");
      assert.deepStrictEqual([removal.delete, removal.update, removal.create], [2, 1, undefined], JSON.stringify(removal)); // db's disk and VM; the placement record
      const removed = await up();
      assert.deepStrictEqual(removed.hosts, { web: "h1", cache: "h1", queue: "h2" });
      for (const m of ["web", "cache", "queue"]) assert.strictEqual(removed.inodes[m], first.inodes[m], `${m}'s disk was made anew`);

      // A third host and a new member: the new member goes to the empty host, nobody else moves.
      spec = { ...spec, hostCount: 3, names: ["web", "cache", "queue", "log"] };
      await noReplace("add a host");
      const grown = await up();
      assert.deepStrictEqual(grown.hosts, { web: "h1", cache: "h1", queue: "h2", log: "h3" });
      for (const m of ["web", "cache", "queue"]) assert.strictEqual(grown.inodes[m], first.inodes[m], `${m}'s disk was made anew`);

      // pack with members this size would put all four on h1; the seated ones stay where they are.
      spec = { ...spec, placement: "pack", memory: "160M" };
      await noReplace("pack and new memory");
      const packed = await up();
      assert.deepStrictEqual(packed.hosts, grown.hosts);
      for (const m of Object.keys(grown.inodes)) assert.strictEqual(packed.inodes[m], grown.inodes[m], `${m}'s disk was made anew`);

      // A pin is a move on purpose: the preview names it and its disk.
      spec = { ...spec, pin: { cache: "h2" } };
      const pinned = await h.stack.preview(capture(h));
      assert.match(h.output(), /pulumi-qemu: Fleet lab: member cache moves from h1 to h2 \(pinned to h2\): its disk cache-disk is replaced there, and what the member kept on it is lost/);
      assert.strictEqual(pinned.changeSummary.replace, 2, JSON.stringify(pinned.changeSummary)); // its disk and its VM
      const moved = await up();
      assert.deepStrictEqual(moved.hosts, { ...grown.hosts, cache: "h2" });
      assert.ok(moved.disks.cache.startsWith(`${workDirs[1]}/`), `cache's disk is on h2: ${moved.disks.cache}`);
      await h.stack.destroy(capture(h));
    });
  });
});
