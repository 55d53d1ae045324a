/** The pure parts of snapshots: qemu-img's argv and JSON, QMP's block list, the Snapshot diff. */
import * as assert from "assert";
import { parseInfo, snapshotArgv } from "../../provider/qemu/img";
import { check, diff, machineChanges, machineOf, type SnapshotOutputs } from "../../provider/resources/snapshot";
import { enableProgress } from "../../provider/progress";
import type { VmSpec } from "../../provider/vm/spec";
import { writableImages } from "../../provider/vm/snapshots";

describe("snapshots (pure)", () => {
  it("qemu-img snapshot argv: never probes the format; the tag is one argv element", () => {
    assert.deepStrictEqual(snapshotArgv("create", "clean", "/w/d.qcow2"), ["qemu-img", "snapshot", "-q", "-c", "clean", "--image-opts", "driver=qcow2,file.filename=/w/d.qcow2"]);
    assert.deepStrictEqual(snapshotArgv("apply", "a.b-c", "/w/d e,f.qcow2").slice(3), ["-a", "a.b-c", "--image-opts", "driver=qcow2,file.filename=/w/d e,,f.qcow2"]);
    assert.deepStrictEqual(snapshotArgv("delete", "x", "/d").slice(3, 5), ["-d", "x"]);
  });

  it("qemu-img info's snapshots (as QEMU 7.2 prints them): name, memory size, date; none is an empty list", () => {
    const info = parseInfo(JSON.stringify({
      "virtual-size": 67108864, format: "qcow2", "actual-size": 206589952,
      snapshots: [
        { "vm-clock-nsec": 536241826, name: "clean", "date-sec": 1796015673, "date-nsec": 934966000, "vm-clock-sec": 7, id: "1", "vm-state-size": 102977667 },
        { "vm-clock-nsec": 0, name: "disk-only", "date-sec": 1796015675, "date-nsec": 0, "vm-clock-sec": 0, id: "2", "vm-state-size": 0 },
      ],
    }));
    assert.deepStrictEqual(info.snapshots, [
      { id: "1", name: "clean", vmStateSize: 102977667, dateSec: 1796015673 },
      { id: "2", name: "disk-only", vmStateSize: 0, dateSec: 1796015675 },
    ]);
    assert.deepStrictEqual(parseInfo(JSON.stringify({ "virtual-size": 1, format: "raw" })).snapshots, []);
  });

  it("query-block: only writable inserted images hold a snapshot (the seed and CD-ROM do not)", () => {
    assert.deepStrictEqual(writableImages([
      { device: "disk0", inserted: { file: "/w/d.qcow2", ro: false, drv: "qcow2" } },
      { device: "cidata", inserted: { file: "/w/vms/a/cidata-1.iso", ro: true, drv: "raw" } },
      { device: "cdrom0" },
      { device: "disk1", inserted: { file: "/w/r.raw", ro: false, drv: "raw" } },
    ]), [{ device: "disk0", path: "/w/d.qcow2", format: "qcow2" }, { device: "disk1", path: "/w/r.raw", format: "raw" }]);
  });

  const host = { kind: "local" as const, workDir: "/w" };
  const olds = { host, vm: "web.0a1b2c3d", name: "clean", memory: true, revertTrigger: 1, images: ["/w/d.qcow2"], withMemory: true, present: true, takenAt: "2026-12-02T10:00:00.000Z" } as SnapshotOutputs;
  const TAKEN = "its saved state taken at 2026-12-02T10:00:00.000Z (disks and memory)";
  // Saved state is never dropped unsaid (issue 28): a replace says in the preview what goes, and takes the new one first where the name allows.
  const cases: Array<[string, Record<string, unknown>, { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }, string[]]> = [
    ["nothing changed", {}, { changes: false, replaces: [], deleteBeforeReplace: false }, []],
    ["revertTrigger changed: an update (the revert), never a replace", { revertTrigger: 2 }, { changes: true, replaces: [], deleteBeforeReplace: false },
      ["pulumi-qemu: Snapshot clean: the update reverts VM web to it (disks and memory: the running guest goes on from the moment it was taken)"]],
    ["another name: the new one is taken first", { name: "other" }, { changes: true, replaces: ["name"], deleteBeforeReplace: false },
      [`pulumi-qemu: Snapshot clean of VM web: the update takes the new one from the current state first, then deletes ${TAKEN} (name changed)`]],
    ["memory changed: the same name, so the old one goes first, said so", { memory: false }, { changes: true, replaces: ["memory"], deleteBeforeReplace: true },
      [`pulumi-qemu: Snapshot clean of VM web: the update deletes ${TAKEN}, then takes it again from the current state (memory changed)`]],
    ["another VM: replace, new first", { vm: "db.0a1b2c3d" }, { changes: true, replaces: ["vm"], deleteBeforeReplace: false },
      [`pulumi-qemu: Snapshot clean of VM web: the update takes the new one from the current state first, then deletes ${TAKEN} (vm changed)`]],
    ["another host: replace, new first", { host: { kind: "local", workDir: "/x" } }, { changes: true, replaces: ["host"], deleteBeforeReplace: false },
      [`pulumi-qemu: Snapshot clean of VM web: the update takes the new one from the current state first, then deletes ${TAKEN} (host changed)`]],
  ];
  for (const [what, news, expected, said] of cases) {
    it(`diff: ${what}`, async () => {
      const printed: string[] = [];
      const log = console.log;
      enableProgress();
      console.log = (line: string) => printed.push(line);
      try {
        const d = await diff("id", olds, { host, vm: "web.0a1b2c3d", name: "clean", memory: true, revertTrigger: 1, ...news } as never);
        assert.deepStrictEqual({ changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace }, expected);
      } finally {
        console.log = log;
        enableProgress(false);
      }
      assert.deepStrictEqual(printed, said);
    });
  }

  it("check: each bad input names its property", async () => {
    const failures = async (i: Record<string, unknown>) => ((await check({}, { host, name: "ok", ...i } as never)).failures ?? []).map((f) => f.property);
    assert.deepStrictEqual(await failures({ vm: "web" }), []);
    assert.deepStrictEqual(await failures({}), ["vm"]);
    assert.deepStrictEqual(await failures({ vm: "web", name: "7" }), ["name"]);
    assert.deepStrictEqual(await failures({ vm: "web", name: "a b" }), ["name"]);
    assert.deepStrictEqual(await failures({ vm: "../x" }), ["vm"]);
    assert.deepStrictEqual(await failures({ disk: "/d.qcow2", memory: true }), ["memory"]);
  });

  // What a saved memory fits: which restarts a revert with memory survives, and which it refuses.
  const saved: VmSpec = { name: "web", arch: "x86_64", cpus: 1, memoryBytes: 256 * 1048576, accelerators: ["tcg"],
    disks: [{ path: "/w/d.qcow2", interface: "virtio", format: "qcow2" }], networks: [{ type: "user", ports: [{ host: 2222, guest: 22 }] }], extraArgs: [] };
  const machineCases: Array<[string, Partial<VmSpec>, string[]]> = [
    ["same spec", {}, []],
    ["another forwarded port, disk path, kernel command line or accelerator list", {
      networks: [{ type: "user", ports: [{ host: 2223, guest: 22 }] }], disks: [{ path: "/w/e.qcow2", interface: "virtio", format: "qcow2" }],
      append: "console=ttyS0", accelerators: ["kvm", "tcg"] }, []],
    ["more memory", { memoryBytes: 288 * 1048576 }, ["memory: 256 MiB -> 288 MiB"]],
    ["more CPUs and another machine type", { cpus: 2, machine: "q35" }, ["machine: default -> q35", "cpus: 1 -> 2"]],
    ["a disk on another interface", { disks: [{ path: "/w/d.qcow2", interface: "ide", format: "qcow2" }] }, ["disks: virtio -> ide"]],
    ["a second NIC (a private network)", { networks: [{ type: "user" }, { type: "private", network: "lab", subnet: "10.1.0.0/24", address: "10.1.0.5" }] }, ["networks: user -> user, private"]],
    ["a device in extraArgs, which is not quoted (it may hold a secret)", { extraArgs: ["-object", "secret,id=s0,data=hunter2"] }, ["extraArgs changed"]],
    ["a cloud-init seed", { cloudInit: { hmacSha256: "ab" } }, ["cloudInitSeed: no -> yes"]],
  ];
  for (const [what, change, expected] of machineCases) {
    it(`machine of a saved memory: ${what}`, () => {
      assert.deepStrictEqual(machineChanges(machineOf(saved), machineOf({ ...saved, ...change } as VmSpec)), expected);
    });
  }
  it("machine of a saved memory: a record missing a property counts as a change, never as a match", () => {
    const { memory: _memory, ...partial } = machineOf(saved);
    assert.deepStrictEqual(machineChanges(partial, machineOf(saved)), ["memory: unknown -> 256 MiB"]);
  });
});
