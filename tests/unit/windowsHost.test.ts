/**
 * Host, HostCapabilities, Disk and Vm through their full create/read/update/delete paths on a
 * replayed Windows host (tests/helpers/windowsReplayTransport.ts: recordings and a model, no
 * PowerShell runs here).
 */
import { parseQmpEndpoint } from "../../provider/vm/qmpEndpoint";
import * as assert from "assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as disk from "../../provider/resources/disk";
import * as host from "../../provider/resources/host";
import * as caps from "../../provider/resources/hostCapabilities";
import * as vm from "../../provider/resources/vm";
import { decodePsScript, type Connection, type ExecResult, type Transport } from "../../provider/transport";
import { overrideTransports } from "../helpers/transportOverride";
import { qmpAddressLine, WindowsReplayTransport } from "../helpers/windowsReplayTransport";
import { hostScriptsDir } from "../../provider/transport/hostScript";

const ssh = { address: "win11.lab", user: "ops", privateKey: "not used: replayed", insecureAcceptAnyHostKey: true };

describe("a Windows host (replayed)", () => {
  const win = new WindowsReplayTransport("windows-11-whpx.json");
  const local = mkdtempSync(path.join(tmpdir(), "pq-win-"));
  let connection: Connection;
  const workDir = "C:/Users/ops/My VMs";

  before(() => overrideTransports((c) => (c.kind === "ssh" && c.host === "win11.lab" ? win : undefined)));
  after(() => {
    overrideTransports(undefined);
    rmSync(local, { recursive: true, force: true });
  });

  it("Host: the default working directory is under the user's profile; an explicit one with a space; read and update", async () => {
    const byDefault = await host.create({ ...ssh, platform: "windows" });
    assert.strictEqual(byDefault.outs.workDir, "C:/Users/ops/.pulumi-qemu");
    assert.ok(win.dirs.has("C:/Users/ops/.pulumi-qemu"));
    // Windows has no file modes: a directory the package makes is private to the user (its ACL), as 700 would be.
    assert.ok(win.privateDirs.has("C:/Users/ops/.pulumi-qemu"), "the working directory was made without its private ACL");
    win.dirs.add("C:/Shared VMs"); // one the user made: left as its owner set it
    await host.create({ ...ssh, platform: "windows", workDir: "C:/Shared VMs" });
    assert.ok(!win.privateDirs.has("C:/Shared VMs"));
    const created = await host.create({ ...ssh, platform: "windows", workDir });
    assert.deepStrictEqual([created.outs.os, created.outs.arch, created.outs.kernel], ["Windows", "x86_64", "10.0.22631"]);
    assert.strictEqual(created.outs.qemuImg, "C:\\Program Files\\qemu\\qemu-img.exe");
    assert.strictEqual(created.outs.connection.kind === "ssh" && created.outs.connection.platform, "windows");
    connection = created.outs.connection;
    assert.strictEqual((await host.read(created.id, created.outs)).props?.os, "Windows");
    assert.strictEqual((await host.update(created.id, created.outs, { ...ssh, platform: "windows", workDir })).outs.workDir, workDir);
  });

  it("Host: a Windows host declared as POSIX is told to set platform", async () => {
    const cmd: Transport = {
      description: "ops@win10.lab:22", platform: "posix",
      exec: async (): Promise<ExecResult> => ({ stdout: "", exitCode: 1, signal: null,
        stderr: "'sh' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n" }),
    } as unknown as Transport;
    overrideTransports((c) => (c.kind === "ssh" && c.host === "win10.lab" ? cmd : c.kind === "ssh" && c.host === "win11.lab" ? win : undefined));
    await assert.rejects(host.create({ ...ssh, address: "win10.lab", workDir }), /platform: .*looks like a Windows host.*set platform: "windows"/);
    overrideTransports((c) => (c.kind === "ssh" && c.host === "win11.lab" ? win : undefined));
  });

  it("HostCapabilities: WHPX is usable after the long-mode probe and recommended; the probe image went to the working directory", async () => {
    const created = await caps.create({ host: connection });
    const whpx = created.outs.accelerators.find((a) => a.name === "whpx")!;
    assert.strictEqual(whpx.usable, true, whpx.reason);
    assert.strictEqual(created.outs.recommended, "whpx");
    assert.ok(win.files.has(`${workDir}/.pulumi-qemu-probe/longmode-probe.img`));
    assert.ok(win.files.has(`${workDir}/.pulumi-qemu-probe/whpx.json`));
    const haxm = created.outs.accelerators.find((a) => a.name === "haxm")!;
    assert.match(haxm.reason, /no service intelhaxm/);
    assert.strictEqual((await caps.read(created.id, created.outs)).props?.recommended, "whpx");
  });

  it("Disk: empty, grown, uploaded, a linked clone that guards its base, deleted", async () => {
    const base = await disk.create({ host: connection, name: "base", size: "64M" });
    assert.match(base.outs.path, new RegExp(`^${workDir}/disks/base\\.[0-9a-f]{8}\\.qcow2$`));
    assert.strictEqual(base.outs.virtualSizeBytes, 64 * 2 ** 20);
    const grown = await disk.update(base.id, base.outs, { host: connection, name: "base", size: "96M" });
    assert.strictEqual(grown.outs.virtualSizeBytes, 96 * 2 ** 20);
    await assert.rejects(disk.update(base.id, grown.outs, { host: connection, name: "base", size: "32M" }), /would shrink/);
    const clone = await disk.create({ host: connection, name: "clone", backingImage: base.outs.path });
    assert.strictEqual(clone.outs.backingFile, base.outs.path);
    await assert.rejects(disk.remove(base.id, grown.outs), /backing file of .*clone\.[0-9a-f]{8}\.qcow2/);
    const source = path.join(local, "seed.img");
    writeFileSync(source, Buffer.alloc(4096, 7));
    win.images.set(`${workDir}/disks/seed.raw`, { format: "raw", size: 4096 }); // what qemu-img would read from the uploaded bytes
    const uploaded = await disk.create({ host: connection, name: "seed", format: "raw", source, path: `${workDir}/disks/seed.raw` });
    assert.strictEqual(win.files.get(`${workDir}/disks/seed.raw`)?.length, 4096);
    assert.ok(![...win.files.keys()].some((f) => f.includes(".upload-")), "no temp file left");
    await disk.remove(uploaded.id, uploaded.outs);
    await disk.remove(clone.id, clone.outs);
    // The clone search fails closed (issue 28): an image qemu-img cannot read, or a directory the
    // search cannot enter, may be a clone; the base stays.
    for (const fault of ["image", "directory"] as const) {
      win.overlaySearchFault = fault;
      if (fault === "image") win.images.set(`${workDir}/locked.qcow2`, { format: "qcow2", size: 1 });
      await assert.rejects(disk.remove(base.id, grown.outs), /not deleting disk .*cannot tell whether these images use it as their backing file/, fault);
      assert.ok(win.images.has(grown.outs.path), `${fault}: the base was deleted`);
      win.images.delete(`${workDir}/locked.qcow2`);
    }
    win.overlaySearchFault = undefined;
    await disk.remove(base.id, grown.outs);
    assert.strictEqual((await disk.read(base.id, grown.outs)).props, undefined);
  });

  it("Vm: started detached with QMP on the address the start script's line picks, read, restarted on update through QMP over TCP, deleted", async () => {
    const root = await disk.create({ host: connection, name: "root", size: "1G" });
    const inputs = { host: connection, name: "win-vm", memory: "256M", disks: [root.outs.path], ports: [{ host: 2222, guest: 22 }] };
    const created = await vm.create(inputs);
    assert.strictEqual(created.outs.status, "running", created.outs.statusDetail);
    assert.strictEqual(created.outs.acceleratorInUse, "whpx");
    assert.match(created.outs.statusDetail, /run-state trace says running/);
    const proc = win.procs.get(created.outs.pid!)!;
    assert.match(proc.commandLine, /-accel whpx .*-qmp tcp:127\.(?!0\.0\.1:)\d+\.\d+\.\d+:\d+,server=on,wait=off -pidfile "C:\/Users\/ops\/My VMs\/vms\/win-vm\.[0-9a-f]{8}\/qemu\.pid"/);
    assert.doesNotMatch(proc.commandLine, /-daemonize/);
    assert.strictEqual(created.outs.guestConnection?.host, "win11.lab");
    assert.ok(win.privateDirs.has(created.outs.stateDir), "the VM's state directory (secrets, seeds) is not private");

    assert.strictEqual((await vm.read(created.id, created.outs)).props?.status, "running");
    await assert.rejects(disk.remove("x", root.outs), /a running VM uses it \(VM win-vm\)/);

    const updated = await vm.update(created.id, created.outs, { ...inputs, memory: "512M" });
    assert.strictEqual(updated.outs.status, "running");
    assert.notStrictEqual(updated.outs.pid, created.outs.pid);
    assert.strictEqual(win.procs.has(created.outs.pid!), false, "the old QEMU is gone");
    assert.ok(win.qmpCommands.includes("system_powerdown"), "it was powered off through QMP over TCP");
    assert.match(win.procs.get(updated.outs.pid!)!.commandLine, / -m 512M /);

    await vm.remove(created.id, updated.outs);
    assert.strictEqual(win.procs.size, 0);
    assert.ok(![...win.files.keys()].some((f) => f.startsWith(`${workDir}/vms/win-vm.`)), "the state directory is gone");
    assert.strictEqual((await vm.read(created.id, updated.outs)).props?.status, "stopped");
  });

  it("Vm: a bridge network, adopt or the guest agent on Windows fails naming the property, and nothing is started", async () => {
    const before = win.ran.length;
    await assert.rejects(vm.create({ host: connection, name: "bridged", accelerator: "tcg", networks: [{ type: "bridge", bridge: "br0" }] }), /networks\[0\]\.type: bridge networks are not supported on Windows hosts/);
    await assert.rejects(vm.create({ host: connection, name: "adopted", accelerator: "tcg", adopt: true }), /adopt: is not supported on Windows hosts/);
    await assert.rejects(vm.create({ host: connection, name: "agent", accelerator: "tcg", guestAgent: true }), /guestAgent: is not supported on Windows hosts yet/);
    assert.ok(!win.ran.slice(before).some((l) => l.includes("start")), "no start script ran");
    assert.strictEqual(win.procs.size, 0);
  });

  it("every command went as an encoded PowerShell script: VM scripts and program calls among them", () => {
    assert.ok(win.ran.some((l) => l === "# pulumi-qemu vm-start") && win.ran.some((l) => l.startsWith("& 'qemu-img' 'create'")));
    assert.strictEqual(decodePsScript(["sh", "-c", "x"]), undefined);
  });
});

// Issue 33: the address vm-start.ps1 picks, from its own line (read and evaluated here; no PowerShell runs).
describe("vm-start.ps1's QMP address line (read from the script, not run: no PowerShell here)", () => {
  const line = qmpAddressLine(readFileSync(path.join(hostScriptsDir(), "vm-start.ps1"), "utf8"));
  it("is on the loopback network 127/8 and can never be 127.0.0.1 (the guest reaches that one as 10.0.2.2)", () => {
    assert.match(line.format, /^127\.\{0\}\.\{1\}\.\{2\}$/);
    const canBe = (octet: number, [lo, hi]: [number, number]) => octet >= lo && octet < hi;
    assert.ok(![0, 0, 1].every((octet, i) => canBe(octet, line.ranges[i])), `127.0.0.1 is among the addresses of ${JSON.stringify(line.ranges)}`);
    for (const [lo, hi] of line.ranges) assert.ok(lo >= 0 && hi <= 256 && lo < hi, `an octet out of 0-255: ${lo}-${hi - 1}`);
    assert.strictEqual(line.pick((lo) => lo), "127.1.0.1", "the lowest address it can pick");
  });
});

// Issue 18, class 6: where a Windows VM's QMP listens, as its start script records it.
describe("the recorded QMP endpoint of a Windows VM", () => {
  const cases: Array<[string, { address: string; port: number }]> = [
    ["127.77.3.9:50100", { address: "127.77.3.9", port: 50100 }],
    ["50100\r\n", { address: "127.0.0.1", port: 50100 }], // started by an older release
    ["10.0.2.2:50100", { address: "", port: 0 }], // not loopback: unreadable, never dialled
    ["127.300.0.1:50100", { address: "", port: 0 }],
    ["127.1.1.1:70000", { address: "", port: 0 }],
    ["", { address: "", port: 0 }],
  ];
  for (const [text, expected] of cases) it(JSON.stringify(text), () => assert.deepStrictEqual(parseQmpEndpoint(text), expected));
});
