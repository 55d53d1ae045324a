/**
 * WarmState and Vm warmFrom on a real SSH test host: the tiny guest booted once and saved
 * running, two VMs resumed from it (RAM copy-on-write from the state's file) and made
 * themselves through the agent; a second declaration reuses the state; a written clone boots;
 * gc keeps the state while a clone reads its disk and removes it after; a failed build leaves nothing.
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { diskProvider } from "../../sdk/disk";
import { vmProvider } from "../../sdk/vm";
import { warmStateProvider } from "../../sdk/warmState";
import { builderLease, removeUnusedWarmStates } from "../../provider/resources/warmState";
import { inventory, isExpired } from "../../provider/resources/gc";
import { stopVm } from "../../provider/vm/execute";
import { forgetClone } from "../../provider/disks/images";
import { durationMs } from "../../provider/validate";
import { reidentify } from "../../provider/vm/reidentify";
import { vmHandle } from "../../provider/vm/handle";
import { vmLayoutAt } from "../../provider/layout";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { guestExec } from "../helpers/guest";
import { liveQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, GUEST_APPEND } from "../testbed/testbed";

const READY = "PULUMI-QEMU-GUEST-READY";

describe("WarmState: a saved guest that VMs resume instead of booting (real QEMU, SSH host)", function () {
  this.timeout(600000);
  const bed = testbed();
  const [h1] = bed.hosts;
  const run = randomBytes(3).toString("hex");
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir: `${h1.workDir}/warm-${run}` };
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const key = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const P: Record<string, pulumi.dynamic.ResourceProvider> = {};
  const template = {
    host: conn, baseImage: `${h1.guestDir}/base.qcow2`, memory: "256M", accelerator: "tcg",
    kernel: `${h1.guestDir}/vmlinuz`, initrd: `${h1.guestDir}/initramfs.gz`, append: GUEST_APPEND,
    nics: ["user"], readiness: { serialPattern: READY, timeoutMs: 120000 },
  };
  let warm: any;
  const members: any[] = [];
  const sh = async (args: string[]) => (await onHost().exec(args)).stdout;

  const member = async (name: string) => {
    const disk = await P.disk.create!({ host: conn, name: `${name}-disk`, backingImage: warm.outs.disk });
    const vm = await P.vm.create!({
      host: conn, name, memory: "256M", accelerator: "tcg", disks: [disk.outs.path],
      kernel: template.kernel, initrd: template.initrd, append: GUEST_APPEND, ports: [{ guest: 22 }],
      guestAgent: true, warmFrom: warm.outs.dir, readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 60000 },
      stopTimeouts: { powerdownMs: 1500, quitMs: 3000 },
    });
    return { disk, vm };
  };
  /** The guest's SSH host key (ed25519), as a client first connecting sees it. */
  const keyscan = (vm: any) => execFileSync("ssh-keyscan", ["-T", "20", "-t", "ed25519", "-p", String(vm.outs.guestConnection.port), vm.outs.guestConnection.host],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split(/\s+/).pop();
  const inGuest = (vm: any, command: string) => guestExec(vm.outs.guestConnection, key, ["sh", "-c", command]).then((r) => r.stdout.trim());

  before(async () => {
    for (const [k, p] of Object.entries({ vm: vmProvider, disk: diskProvider, warm: warmStateProvider })) P[k] = (await roundTripProvider(p)).provider;
  });
  after(async () => {
    for (const pid of liveQemuPids(`/warm-${run}/`)) await onHost().exec(["kill", "-KILL", String(pid)]).catch(() => undefined);
    await onHost().exec(["rm", "-rf", "--", conn.workDir]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("is built once: the guest boots, is saved running (disk read-only, RAM in a file, devices' state), and its builder is gone", async () => {
    warm = await P.warm.create!(template);
    assert.strictEqual(warm.outs.reused, false);
    assert.strictEqual(warm.outs.acceleratorInUse, "tcg");
    assert.match(warm.outs.dir, new RegExp(`^${conn.workDir}/warm/[0-9a-f]{32}$`));
    const files = (await sh(["sh", "-c", 'cd "$1" && ls && stat -c "%A %n" disk.qcow2', "ls", warm.outs.dir])).split("\n");
    for (const f of ["devices", "disk.qcow2", "memory", "meta.json"]) assert.ok(files.includes(f), `${f} is missing from ${files}`);
    const mode = files.filter(Boolean).pop()!;
    assert.match(mode, /^-r[-w]{0,1}\S* disk\.qcow2$/);
    assert.doesNotMatch(mode.split(" ")[0], /w/, `the saved disk is writable: ${mode}`);
    assert.deepStrictEqual(liveQemuPids(`/warm-${run}/`), [], "the builder QEMU still runs");
    assert.strictEqual((await sh(["ls", `${conn.workDir}/vms`])).trim(), "", "the builder's state directory was left");
  });

  it("two VMs resume it without booting and are each themselves: hostname, machine-id, SSH host key, clock; their RAM is shared until written", async () => {
    members.push(await member(`wa-${run}`), await member(`wb-${run}`));
    for (const { vm } of members) {
      assert.strictEqual(vm.outs.status, "running");
      // Resumed, not booted: the guest never printed its boot marker on this VM's console.
      const serial = await sh(["cat", vm.outs.serialLog]);
      assert.ok(!serial.includes(READY), "the VM booted instead of resuming");
    }
    const seen = await Promise.all(members.map(({ vm }) => inGuest(vm, "hostname; cat /etc/machine-id; date +%s")));
    const [a, b] = seen.map((s) => s.split("\n"));
    assert.deepStrictEqual([a[0], b[0]], [`wa-${run}`, `wb-${run}`]);
    assert.match(a[1], /^[0-9a-f]{32}$/);
    assert.notStrictEqual(a[1], b[1], "two VMs share a machine-id");
    for (const s of [a, b]) assert.ok(Math.abs(Number(s[2]) - Date.now() / 1000) < 30, `the guest's clock is ${s[2]}, not now`);
    const hostKeys = members.map(({ vm }) => keyscan(vm));
    assert.ok(hostKeys[0] && hostKeys[1] && hostKeys[0] !== hostKeys[1], `the SSH host keys are the same: ${hostKeys}`);
    // Copy-on-write: the RAM file is mapped privately, and most of it is still the file's pages.
    const pid = members[0].vm.outs.pid;
    const maps = await sh(["grep", "-F", `${warm.outs.dir}/memory`, `/proc/${pid}/maps`]);
    assert.match(maps, / r[w-]-p /, "the saved RAM is not mapped private (copy-on-write)");
  });

  it("the script gives a guest whose SSH server has keys loaded new ones, and restarts it on them", async () => {
    const { vm } = members[0];
    // The member's first connections made its keys; dropbear's listener loads them when it starts.
    const before = keyscan(vm);
    const said = await reidentify(vmHandle(onHost(), vmLayoutAt(vm.outs.stateDir)), vm.outs.spec, []);
    assert.match(said, /^keys=[1-9]/, said);
    const after = keyscan(vm);
    assert.ok(before && after && before !== after, `the host key did not change: ${before}`);
    assert.strictEqual(await inGuest(vm, "hostname"), `wa-${run}`);
  });

  it("a second declaration of the same guest reuses it; a clone written since boots instead of resuming", async () => {
    const again = await P.warm.create!(template);
    assert.strictEqual(again.outs.reused, true);
    assert.strictEqual(again.outs.dir, warm.outs.dir);
    await P.warm.delete!(again.id, again.outs);
    // A clone with data in it would not match the saved RAM: it boots.
    const disk = await P.disk.create!({ host: conn, name: `wc-${run}-disk`, backingImage: warm.outs.disk });
    await sh(["qemu-io", "-c", "write -P 0x55 0 64k", disk.outs.path]);
    const vm = await P.vm.create!({
      host: conn, name: `wc-${run}`, memory: "256M", accelerator: "tcg", disks: [disk.outs.path], kernel: template.kernel, initrd: template.initrd,
      append: GUEST_APPEND, ports: [{ guest: 22 }], guestAgent: true, warmFrom: warm.outs.dir, readiness: { serialPattern: READY, timeoutMs: 90000 },
      stopTimeouts: { powerdownMs: 1500, quitMs: 3000 },
    });
    assert.ok((await sh(["cat", vm.outs.serialLog])).includes(READY), "a written clone was resumed");
    await P.vm.delete!(vm.id, vm.outs);
    await P.disk.delete!(disk.id, disk.outs);
  });

  it("a Vm with warmFrom needs the agent, and one whose memory differs from the state's, or with a seed the saved guest had not, is refused before anything starts", async () => {
    const checked = await P.vm.check!({}, { host: conn, name: "x", disks: ["/d"], warmFrom: warm.outs.dir });
    assert.deepStrictEqual(checked.failures?.map((f) => f.property), ["warmFrom"]);
    assert.match(checked.failures![0].reason, /guestAgent: true/);
    const disk = await P.disk.create!({ host: conn, name: `wd-${run}-disk`, backingImage: warm.outs.disk });
    await assert.rejects(P.vm.create!({ host: conn, name: `wd-${run}`, memory: "512M", accelerator: "tcg", disks: [disk.outs.path], kernel: template.kernel, guestAgent: true, warmFrom: warm.outs.dir }),
      /memory: is 512 MiB, but the WarmState .* saved a guest of 256 MiB/);
    // The saved guest had no seed drive: a VM with one would not match its devices.
    await assert.rejects(P.vm.create!({ host: conn, name: `wd-${run}`, memory: "256M", accelerator: "tcg", disks: [disk.outs.path], kernel: template.kernel, guestAgent: true, warmFrom: warm.outs.dir,
      cloudInit: { userData: "#cloud-config\n" } }), /cloudInit: must be left out: the saved guest had no cloud-init seed drive/);
    assert.deepStrictEqual(liveQemuPids(`/wd-${run}/`), []);
    assert.doesNotMatch(await sh(["sh", "-c", 'ls "$1"/vms; exit 0', "ls", conn.workDir]), new RegExp(`^wd-${run}\\b`, "m"), "the refused VM's state directory is left");
    await P.disk.delete!(disk.id, disk.outs);
  });

  it("delete keeps it; gc removes it only once no stack uses it and no clone reads its disk", async () => {
    await P.warm.delete!(warm.id, warm.outs);
    const said: string[] = [];
    assert.deepStrictEqual(await removeUnusedWarmStates(onHost(), conn.workDir, (m) => said.push(m)), []);
    assert.match(said.join("\n"), /kept, .*(backing file|running VM)/);
    for (const { vm, disk } of members) {
      await P.vm.delete!(vm.id, vm.outs);
      await P.disk.delete!(disk.id, disk.outs);
    }
    assert.deepStrictEqual(await removeUnusedWarmStates(onHost(), conn.workDir, () => undefined), [warm.outs.dir]);
    assert.strictEqual((await onHost().exec(["test", "-e", warm.outs.dir])).exitCode, 1);
  });

  it("a build that fails (the guest never gets ready) leaves no QEMU and no state directory", async () => {
    await assert.rejects(P.warm.create!({ ...template, readiness: { serialPattern: "NEVER-PRINTED", timeoutMs: 8000 } }), /NEVER-PRINTED|ready/);
    assert.deepStrictEqual(liveQemuPids(`/warm-${run}/`), []);
    assert.strictEqual((await sh(["sh", "-c", 'ls "$1"/warm "$1"/vms 2>/dev/null; exit 0', "ls", conn.workDir])).trim().split("\n").filter((l) => l && !l.endsWith(":")).join(","), "");
  });

  it("a build whose provider process is killed leaves its builder with a lease, so gc --expired can stop it", async () => {
    // Its own key (another kernel argument), built by a child process that is then killed outright.
    const inputs = { ...template, append: `${GUEST_APPEND} pq-killed-build`, readiness: { serialPattern: READY, timeoutMs: 60000 } };
    const child = spawn(process.execPath, ["-e", KILLED_BUILD, require.resolve("../../provider/resources/warmState")], { stdio: ["pipe", "ignore", "inherit"] });
    child.stdin.end(JSON.stringify(inputs)); // the connection's key on stdin, not on a command line
    const builder = async () => (await inventory(onHost(), conn.workDir)).find((e) => e.name.startsWith("warm-") && e.state === "running");
    let found;
    for (const deadline = Date.now() + 60000; !found && Date.now() < deadline;) {
      found = await builder();
      if (!found) await new Promise((r) => setTimeout(r, 500));
    }
    child.kill("SIGKILL");
    assert.ok(found, "the child's build never started its builder");
    const leaseMs = durationMs(builderLease(inputs), "lease");
    assert.strictEqual(leaseMs, 60000 + 180000);
    const expires = Date.parse(found.record?.expires ?? "");
    const created = Date.parse(found.record?.created ?? "");
    assert.ok(Math.abs(expires - created - leaseMs) < 5000, `the builder's lease: ${JSON.stringify(found.record)}`);
    // Left running by the killed build; gc --expired would take it once the lease ends, not before.
    assert.ok(!isExpired(found, Date.now()) && isExpired(found, expires + 1000));
    await stopVm(vmHandle(onHost(), vmLayoutAt(found.dir), found.name), { powerdownMs: 0, quitMs: 3000 }, () => undefined, { removeState: "vms" });
    const key12 = found.name.slice("warm-".length, "warm-".length + 12);
    const dir = (await sh(["sh", "-c", 'ls -d "$1"/warm/"$2"*', "ls", conn.workDir, key12])).trim();
    await forgetClone(onHost(), { path: `${dir}/disk.qcow2`, backingFile: template.baseImage });
    await onHost().exec(["rm", "-rf", "--", dir]);
    assert.deepStrictEqual(liveQemuPids(`/warm-${run}/`), []);
  });
});

/** A WarmState build in a process of its own (argv[1]: the module; stdin: its inputs), to be killed in the middle. */
const KILLED_BUILD = `
let text = "";
process.stdin.on("data", (d) => (text += d)).on("end", () => require(process.argv[1]).create(JSON.parse(text)).catch(() => undefined));
`;
