/**
 * Issue 27, Disk ownership on a shared SSH host (one SSH user, one working directory), through
 * the serialized provider: two stacks' Disks of one name get their own images; a path another
 * owns is refused naming it, with nothing changed; a shared image is deleted only by its last
 * owner; a Disk an earlier release made (no record) is deleted as before.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { diskOwnerRecord } from "../../provider/disks/owner";
import { ownerId } from "../../provider/vm/owner";
import { diskProvider } from "../../sdk/disk";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { sshOptionsFor, testbed } from "../testbed/testbed";

describe("Disk ownership on a shared host (real qemu-img over SSH)", function () {
  this.timeout(120000);
  const [h1] = testbed().hosts;
  const run = randomBytes(3).toString("hex");
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir: `${h1.workDir}/disk-owner-${run}` };
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const exists = async (path: string) => (await onHost().exec(["test", "-e", path])).exitCode === 0;
  const as = (stack: string, extra: Record<string, unknown> = {}) => ({ host: conn, name: "data", size: "16M", owner: { project: "lab", stack, resource: "data" }, ...extra });
  let diskP: pulumi.dynamic.ResourceProvider;

  before(async () => { diskP = (await roundTripProvider(diskProvider)).provider; });
  after(async () => {
    await onHost().exec(["rm", "-rf", "--", conn.workDir!]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("two stacks, one Disk name: two images, each with its owner; another's path is refused naming it; a forged record refuses the delete", async () => {
    const a = await diskP.create!(as("a"));
    const b = await diskP.create!(as("b"));
    assert.notStrictEqual(a.outs.path, b.outs.path);
    assert.match(a.outs.path, /\/disks\/data\.[0-9a-f]{8}\.qcow2$/);
    const record = JSON.parse((await onHost().readFile(diskOwnerRecord(a.outs.path))).toString());
    assert.deepStrictEqual([record.id, record.stack], [ownerId(a.outs.ownerToken), "a"]);

    await assert.rejects(diskP.create!(as("b", { path: a.outs.path })), (e: Error & { code?: string }) => e.code === "ALREADY_EXISTS" && /already exists and belongs to project lab, stack a, resource data; it is not overwritten/.test(e.message));
    await onHost().writeFile(diskOwnerRecord(b.outs.path), (await onHost().readFile(diskOwnerRecord(a.outs.path))).toString());
    await assert.rejects(diskP.delete!(b.id, b.outs), /not deleting disk .*: it belongs to project lab, stack a, resource data, not to this resource/);
    await assert.rejects(diskP.update!(b.id, b.outs, as("b", { size: "32M" })), /not changing disk .*belongs to project lab, stack a/);
    assert.ok(await exists(b.outs.path), "a refused delete removed the image");

    await diskP.delete!(a.id, a.outs);
    assert.ok(!await exists(a.outs.path) && !await exists(diskOwnerRecord(a.outs.path)), "the image or its record is left");
    assert.ok(await exists(b.outs.path), "A's delete removed B's image");
  });

  it("two stacks upload one shared image at once: one copy, both its owners, no upload left; kept while another owner has it, deleted by the last one", async () => {
    const local = `/tmp/pq-owned-shared-${run}.qcow2`;
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", local, "16M"]);
    try {
      const shared = (stack: string) => as(stack, { name: "base", size: undefined, path: `${conn.workDir}/images/base.qcow2`, source: local, shared: true });
      const [one, two] = await Promise.all([diskP.create!(shared("one")), diskP.create!(shared("two"))]);
      const listing = (await onHost().exec(["sh", "-c", 'cd "$1" && ls -A', "x", `${conn.workDir}/images`])).stdout.split("\n").filter(Boolean).sort();
      assert.deepStrictEqual(listing, [".base.qcow2.owners", "base.qcow2"], "an upload's temp file was left, or an owner not recorded");
      assert.strictEqual((await onHost().exec(["sh", "-c", 'ls "$1" | wc -l', "x", `${conn.workDir}/images/.base.qcow2.owners`])).stdout.trim(), "2");
      await diskP.delete!(one.id, one.outs);
      assert.ok(await exists(one.outs.path), "the first owner's delete removed an image the second still has");
      await diskP.delete!(two.id, two.outs);
      assert.ok(!await exists(two.outs.path), "the last owner's delete left it");
    } finally {
      execFileSync("rm", ["-f", local]);
    }
  });

  it("a Disk an earlier release made (its own name as path, no record) is deleted as before", async () => {
    const made = await diskP.create!(as("old"));
    const older = `${conn.workDir}/disks/data.qcow2`;
    await onHost().exec(["sh", "-c", 'mv "$1" "$2" && rm -f "$3"', "x", made.outs.path, older, diskOwnerRecord(made.outs.path)]);
    const { ownerToken: _token, ...recorded } = { ...made.outs, path: older };
    assert.strictEqual((await diskP.read!(made.id, recorded)).props?.path, older);
    await diskP.delete!(made.id, recorded);
    assert.ok(!await exists(older));
  });
});
