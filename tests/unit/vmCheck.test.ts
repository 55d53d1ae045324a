/** Vm and Disk check: bad input fails with the property's name; nothing reaches a host. */
import * as assert from "assert";
import * as disk from "../../provider/resources/disk";
import * as vm from "../../provider/resources/vm";
import { UNKNOWN } from "../../provider/resources/types";
import type { VmInputs } from "../../provider/vm/spec";

const host = { kind: "local" as const, workDir: "/w" };
const ok: VmInputs = { host, name: "web" };

/** Strings that must never pass as names or reach a shell unquoted. */
export const INJECTION_CORPUS = ["$(touch /tmp/pwned)", "`id`", "a;rm -rf /", "a&&b", "a|b", "a b", "../etc", "-rf", "a\nb", "a'b", "a\"b", "*", "~root", ""];

describe("Vm check", () => {
  const cases: Array<[string, Partial<VmInputs>, string]> = [
    ["negative memory", { memory: "-1G" }, "memory"],
    ["unparseable memory", { memory: "lots" }, "memory"],
    ["memory not whole MiB", { memory: 1000 }, "memory"],
    ["zero cpus", { cpus: 0 }, "cpus"],
    ["unknown accelerator", { accelerator: "vbox" }, "accelerator"],
    ["unknown accelerator in a list", { accelerator: ["kvm", "xen"] }, "accelerator[1]"],
    ["auto inside a list", { accelerator: ["auto", "tcg"] }, "accelerator"],
    ["port out of range", { ports: [{ host: 70000, guest: 22 }] }, "ports[0].host"],
    ["guest port zero", { ports: [{ host: 2222, guest: 0 }] }, "ports[0].guest"],
    ["same host port twice", { ports: [{ host: 2222, guest: 22 }, { host: 2222, guest: 80 }] }, "ports[1].host"],
    ["relative disk path", { disks: ["disk.qcow2"] }, "disks[0]"],
    ["unknown disk interface", { disks: [{ path: "/d", interface: "floppy" as never }] }, "disks[0].interface"],
    ["initrd without kernel", { initrd: "/i" }, "kernel"],
    ["unknown state", { state: "paused" as never }, "state"],
    ["adopt not a boolean", { adopt: "yes" as never }, "adopt"],
    ["bad readiness pattern", { readiness: { serialPattern: "(" } }, "readiness.serialPattern"],
    ["readiness port not forwarded", { readiness: { guestPort: 22 } }, "readiness.guestPort"],
    ["extraArgs taking over -pidfile", { extraArgs: ["-pidfile", "/tmp/x"] }, "extraArgs[0]"],
    ["extraArgs: --pidfile (QEMU reads --x as -x)", { extraArgs: ["-device", "virtio-rng-pci", "--pidfile", "/tmp/x"] }, "extraArgs[2]"],
    ["extraArgs: a QMP on TCP", { extraArgs: ["--qmp", "tcp:0.0.0.0:4444,server=on,wait=off"] }, "extraArgs[0]"],
    ["extraArgs: -readconfig", { extraArgs: ["-readconfig", "/tmp/q.cfg"] }, "extraArgs[0]"],
    ["extraArgs: a monitor", { extraArgs: ["-monitor", "tcp:127.0.0.1:5555,server,nowait"] }, "extraArgs[0]"],
    ["extraArgs: -mon", { extraArgs: ["-mon", "chardev=x"] }, "extraArgs[0]"],
    ["extraArgs: another accelerator", { extraArgs: ["--accel", "kvm"] }, "extraArgs[0]"],
    ["extraArgs: -run-with (QEMU 9's -runas and -chroot)", { extraArgs: ["-run-with", "user=nobody"] }, "extraArgs[0]"],
    ["extraArgs: -set on the manager's chardev", { extraArgs: ["-set", "chardev.qmp.path=/tmp/other.sock"] }, "extraArgs[1]"],
    ["extraArgs: -set on a drive", { extraArgs: ["-device", "virtio-rng-pci", "--set", "drive.disk0.file=/etc/shadow"] }, "extraArgs[3]"],
    ["extraArgs: a monitor on -parallel", { extraArgs: ["-parallel", "mon:tcp:0.0.0.0:4444,server=on,wait=off"] }, "extraArgs[1]"],
    ["extraArgs: a monitor on -debugcon", { extraArgs: ["--debugcon", "mon:stdio"] }, "extraArgs[1]"],
    ["extraArgs: -enable-kvm", { extraArgs: ["-enable-kvm"] }, "extraArgs[0]"],
    ["extraArgs: the accelerator through -machine", { extraArgs: ["-M", "q35,accel=kvm"] }, "extraArgs[1]"],
    ["extraArgs: -runas", { extraArgs: ["-runas", "nobody"] }, "extraArgs[0]"],
    ["disk readOnly not a boolean", { disks: [{ path: "/d", readOnly: "false" as never }] }, "disks[0].readOnly"],
    ["adopt as 1", { adopt: 1 as never }, "adopt"],
    ["machine with a comma", { machine: "q35,accel=kvm" }, "machine"],
    ["bad bridge name", { networks: [{ type: "bridge", bridge: "br0; reboot" }] }, "networks[0].bridge"],
    ["cloud-init user-data not text", { cloudInit: { userData: 42 as never } }, "cloudInit.userData"],
    ["cloud-init meta-data a list", { cloudInit: { metaData: [] as never } }, "cloudInit.metaData"],
    ["cloud-init instance-id with a space", { cloudInit: { metaData: { "instance-id": "a b" } } }, "cloudInit.metaData.instance-id"],
    ["cloud-init unknown key", { cloudInit: { userdata: "x" } as never }, "cloudInit.userdata"],
    ["QMP socket path too long", { host: { kind: "local", workDir: "/" + "d".repeat(90) } }, "host.workDir"],
  ];
  for (const [what, inputs, property] of cases) {
    it(`${what}: fails on ${property}`, async () => {
      const r = await vm.check({}, { ...ok, ...inputs });
      assert.ok(r.failures?.some((f) => f.property === property), JSON.stringify(r.failures));
    });
  }
  for (const bad of INJECTION_CORPUS) {
    it(`name ${JSON.stringify(bad)} is refused`, async () => {
      const r = await vm.check({}, { ...ok, name: bad });
      assert.deepStrictEqual(r.failures?.map((f) => f.property), ["name"]);
    });
  }
  it("several bad properties are all reported", async () => {
    const r = await vm.check({}, { ...ok, cpus: -1, memory: "x", accelerator: "y" });
    assert.deepStrictEqual(r.failures?.map((f) => f.property).sort(), ["accelerator", "cpus", "memory"]);
  });
  it("a valid VM passes unchanged", async () => assert.deepStrictEqual(await vm.check({}, ok), { inputs: ok }));
  it("extraArgs of the user's own: a -set on a device, a chardev path that is not a monitor", async () => {
    for (const extraArgs of [["-device", "virtio-rng-pci,id=rng0", "-set", "device.rng0.max-bytes=1024"], ["-parallel", "file:/tmp/lp0"], ["-debugcon", "file:/tmp/mon:log"]]) {
      assert.strictEqual((await vm.check({}, { ...ok, extraArgs })).failures, undefined, JSON.stringify(extraArgs));
    }
  });
  it("extraArgs that leave the manager alone pass", async () => {
    const extraArgs = ["-device", "virtio-rng-pci", "-smbios", "type=1,serial=abc", "-global", "kvm-pit.lost_tick_policy=delay", "-rtc", "base=utc"];
    assert.deepStrictEqual((await vm.check({}, { ...ok, extraArgs })).failures, undefined);
  });
  it("during preview, unknown disk paths and host pass; known bad values still fail", async () => {
    assert.deepStrictEqual((await vm.check({}, { ...ok, host: UNKNOWN as never, disks: [UNKNOWN] })).failures, undefined);
    const withReadiness = { ...ok, host: UNKNOWN as never, ports: [{ host: 2222, guest: 22 }], readiness: { guestPort: 22 } };
    assert.deepStrictEqual((await vm.check({}, withReadiness)).failures, undefined);
    const r = await vm.check({}, { ...ok, host: UNKNOWN as never, memory: "x" });
    assert.deepStrictEqual(r.failures?.map((f) => f.property), ["memory"]);
  });
});

describe("Disk check", () => {
  const d = { host, name: "root", size: "1G" };
  const cases: Array<[string, Partial<disk.DiskInputs>, string]> = [
    ["negative size", { size: "-5G" }, "size"],
    ["no size and nothing to copy", { size: undefined }, "size"],
    ["relative path", { path: "x.qcow2" }, "path"],
    ["unknown format", { format: "vmdk" as never }, "format"],
    ["raw linked clone", { format: "raw", backingImage: "/b.qcow2" }, "backingImage"],
    ["both source and base", { source: "/tmp/a", backingImage: "/b.qcow2" }, "source"],
    ["allowShrink as the string \"false\"", { allowShrink: "false" as never }, "allowShrink"],
    ["shared as 1", { shared: 1 as never }, "shared"],
    ["uploadTimeoutMs below a second", { source: "/tmp/a", size: undefined, uploadTimeoutMs: 10 }, "uploadTimeoutMs"],
  ];
  for (const [what, inputs, property] of cases) {
    it(`${what}: fails on ${property}`, async () => {
      const r = await disk.check(undefined, { ...d, ...inputs });
      assert.ok(r.failures?.some((f) => f.property === property), JSON.stringify(r.failures));
    });
  }
  for (const bad of INJECTION_CORPUS) {
    it(`name ${JSON.stringify(bad)} is refused`, async () =>
      assert.deepStrictEqual((await disk.check(undefined, { ...d, name: bad })).failures?.map((f) => f.property), ["name"]));
  }
  it("a shrink is refused in check (so preview fails) unless allowShrink", async () => {
    const r = await disk.check({ ...d, size: "2G" }, d);
    assert.match(r.failures?.[0].reason ?? "", /would shrink the disk.*allowShrink/);
    assert.deepStrictEqual(await disk.check({ ...d, size: "2G" }, { ...d, allowShrink: true }), { inputs: { ...d, allowShrink: true } });
  });
});

// Issue 18, class 8: a name that becomes a device on a Windows host is refused there, naming the property.
describe("names that are devices on Windows hosts", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
  const windows = { kind: "ssh" as const, host: "w", user: "u", privateKey: "k", hostKey: KEY, platform: "windows" as const, workDir: "C:/q" };
  const linux = { ...windows, platform: "posix" as const, workDir: "/q" };
  const cases: Array<[string, "vm" | "disk", Record<string, unknown>, string | undefined]> = [
    ["Vm named CON on Windows", "vm", { host: windows, name: "CON" }, "name"],
    ["Vm named nul.web on Windows", "vm", { host: windows, name: "nul.web" }, "name"],
    ["Vm named com1 on Windows", "vm", { host: windows, name: "com1" }, "name"],
    ["Vm named console on Windows (not a device)", "vm", { host: windows, name: "console" }, undefined],
    ["Vm named con on Linux", "vm", { host: linux, name: "con" }, undefined],
    ["Disk named aux on Windows", "disk", { host: windows, name: "aux", size: "1G" }, "name"],
    ["Disk at C:/d/lpt1.qcow2 on Windows", "disk", { host: windows, name: "d", path: "C:/d/lpt1.qcow2", size: "1G" }, "path"],
    ["Disk named aux on Linux", "disk", { host: linux, name: "aux", size: "1G" }, undefined],
  ];
  for (const [what, kind, inputs, property] of cases) {
    it(`${what}: ${property ? `fails on ${property}` : "passes"}`, async () => {
      const r = kind === "vm" ? await vm.check(undefined, inputs as never) : await disk.check(undefined, inputs as never);
      if (!property) return assert.strictEqual(r.failures, undefined, JSON.stringify(r.failures));
      assert.ok(r.failures?.some((f) => f.property === property && /device name on Windows/.test(f.reason)), JSON.stringify(r.failures));
    });
  }
});
