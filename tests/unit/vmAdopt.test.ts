import * as assert from "assert";
import { checkAdoptable, namesGuest, parseHandArgv } from "../../provider/vm/adopt";
import { vmSpec } from "../../provider/vm/spec";

describe("adopt: reading a hand-started QEMU command line", () => {
  const argv = (...a: string[]) => ["qemu-system-x86_64", ...a];

  const table: Array<[string[], { memoryMiB: number; cpus: number; qmp?: string; accelerators: string[] }]> = [
    [argv("-m", "512", "-smp", "2", "-qmp", "unix:/run/a.sock,server=on,wait=off", "-accel", "tcg"), { memoryMiB: 512, cpus: 2, qmp: "/run/a.sock", accelerators: ["tcg"] }],
    [argv("-m", "1G", "-smp", "cpus=4,sockets=1", "-enable-kvm"), { memoryMiB: 1024, cpus: 4, accelerators: ["kvm"] }],
    [argv("-m", "size=256M,slots=2,maxmem=1G", "-machine", "q35,accel=kvm:tcg", "-qmp", "tcp:127.0.0.1:4444,server"), { memoryMiB: 256, cpus: 1, accelerators: ["kvm", "tcg"] }],
    [argv("-smp", "3,sockets=1"), { memoryMiB: 128, cpus: 3, accelerators: [] }],
  ];
  for (const [a, want] of table) {
    it(a.slice(1).join(" "), () => {
      const got = parseHandArgv(7, a);
      assert.deepStrictEqual({ memoryMiB: got.memoryBytes / 2 ** 20, cpus: got.cpus, qmp: got.qmpSocket, accelerators: got.accelerators },
        { memoryMiB: want.memoryMiB, cpus: want.cpus, qmp: want.qmp, accelerators: want.accelerators });
    });
  }

  it("-name matches the guest name exactly, in each of its forms", () => {
    assert.ok(namesGuest(argv("-name", "web"), "web"));
    assert.ok(namesGuest(argv("-name", "guest=web,debug-threads=on"), "web"));
    assert.ok(namesGuest(argv("-name", "web,process=x"), "web"));
    assert.ok(!namesGuest(argv("-name", "guest=web2"), "web"));
    assert.ok(!namesGuest(argv("-m", "web"), "web"));
  });

  it("refuses none, several, or a different size or vCPU count, naming the property", () => {
    const spec = vmSpec({ host: { kind: "local", workDir: "/w" }, name: "web", memory: "512M", cpus: 2 }).spec;
    const one = parseHandArgv(9, argv("-name", "web", "-m", "512", "-smp", "2"));
    assert.strictEqual(checkAdoptable(spec, [one]), one);
    assert.throws(() => checkAdoptable(spec, []), /no running QEMU instance has -name web/);
    assert.throws(() => checkAdoptable(spec, [one, { ...one, pid: 10 }]), /2 running QEMU instances .*PIDs 9, 10/);
    assert.throws(() => checkAdoptable(spec, [{ ...one, memoryBytes: 2 ** 30 }]), (e: Error & { property?: string }) => e.property === "memory" && /1024 MiB, the declaration 512 MiB/.test(e.message));
    assert.throws(() => checkAdoptable(spec, [{ ...one, cpus: 1 }]), (e: Error & { property?: string }) => e.property === "cpus");
  });
});
