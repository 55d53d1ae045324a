/**
 * Issue 18, class 6, on a stand-in: no Windows host runs here, but QEMU's user-mode network
 * (libslirp) is the same library on Windows and Linux. A guest on it reaches the host's 127.0.0.1
 * as 10.0.2.2, so a QMP listening there (as Windows VMs' did) can be driven from inside the guest.
 * The Windows argv (its QMP on the placeholders the start script fills) runs here under TCG with
 * the test guest, once with 127.0.0.1 (the guest gets QMP's greeting: the test can fail) and once
 * with an address of the kind the start script now picks (the guest cannot connect).
 */
import * as assert from "assert";
import { spawn, type ChildProcess } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as net from "net";
import { tmpdir } from "os";
import * as path from "path";
import { qemuArgv, qemuReadConfig } from "../../provider/vm/argv";
import { WINDOWS_QMP_ADDRESS, WINDOWS_QMP_PORT } from "../../provider/platform/windowsVmScripts";
import { sshTransport } from "../../provider/transport";
import { vmLayout } from "../../provider/layout";
import { vmSpec } from "../../provider/vm/spec";
import { testbed, GUEST_APPEND } from "../testbed/testbed";

const READY = "PULUMI-QEMU-GUEST-READY";

async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once("error", reject).listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe("Windows VMs' QMP is out of the guest's reach (stand-in: the same user-mode network on this machine)", function () {
  this.timeout(180000);
  const bed = testbed();
  const guestKey = readFileSync(`${bed.guest.dir}/id_ed25519`, "utf8");
  const dir = mkdtempSync(path.join(tmpdir(), "pq-winqmp-"));
  const running: ChildProcess[] = [];
  after(() => {
    for (const p of running) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  /** What the guest gets when it connects to `target` (the first line, or the error). */
  async function fromGuest(qmpAddress: string, name: string, targets: (port: number) => string[]): Promise<string[]> {
    const qmpPort = await freePort(qmpAddress);
    const sshPort = await freePort("127.0.0.1");
    const spec = vmSpec({
      host: { kind: "local", workDir: dir }, name, memory: "256M", accelerator: "tcg",
      // QEMU runs on this machine: the guest's files here.
      kernel: `${bed.guest.dir}/vmlinuz`, initrd: `${bed.guest.dir}/initramfs.gz`, append: GUEST_APPEND,
      ports: [{ host: sshPort, guest: 22, hostAddress: "127.0.0.1" }],
    }).spec;
    const layout = vmLayout(dir, name);
    mkdirSync(layout.dir, { recursive: true });
    writeFileSync(layout.readConfig, qemuReadConfig(spec)!, { mode: 0o600 }); // as the start writes it: the kernel command line
    const argv = qemuArgv(spec, { qemuBinary: "qemu-system-x86_64", accelerators: ["tcg"], layout, platform: "windows" })
      .map((a) => a.replace(WINDOWS_QMP_ADDRESS, qmpAddress).replace(WINDOWS_QMP_PORT, String(qmpPort)));
    assert.ok(argv.includes(`tcp:${qmpAddress}:${qmpPort},server=on,wait=off`), argv.join(" "));
    const qemu = spawn(argv[0], argv.slice(1), { stdio: "ignore" });
    running.push(qemu);
    for (let i = 0; i < 900; i++) {
      if (readFileSync(layout.serialLog, { encoding: "utf8", flag: "a+" }).includes(READY)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const guest = sshTransport({ host: "127.0.0.1", port: sshPort, user: "root", privateKey: guestKey, insecureAcceptAnyHostKey: true, connectTimeoutMs: 20000 });
    try {
      const said: string[] = [];
      for (const target of targets(qmpPort)) {
        const r = await guest.exec(["sh", "-c", `nc -w 3 ${target.replace(":", " ")} </dev/null 2>&1 | head -c 200`]);
        said.push(r.stdout.trim() || "(nothing)");
      }
      return said;
    } finally {
      await guest.close();
      qemu.kill("SIGKILL");
    }
  }

  it("on 127.0.0.1 (as before) the guest reaches QMP as 10.0.2.2: the hole this closes", async () => {
    const [said] = await fromGuest("127.0.0.1", "qmp-old", (port) => [`10.0.2.2:${port}`]);
    assert.match(said, /"QMP"/, "the guest did not get QMP's greeting: this test could not fail");
  });

  it("on another loopback address (as the start script now picks) the guest reaches nothing", async () => {
    const address = "127.77.41.9";
    const said = await fromGuest(address, "qmp-new", (port) => [`10.0.2.2:${port}`, `${address}:${port}`]);
    for (const s of said) assert.doesNotMatch(s, /QMP/, `the guest reached QMP: ${said.join(" | ")}`);
  });
});
