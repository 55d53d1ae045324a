/**
 * A host reinstalled with a new host key and a rotated client key, through the real CLI. The test
 * runs its own sshd (port 2200) in test host h2's network namespace, with its own host key and
 * authorized_keys, so that it can rotate both without disturbing the shared test hosts.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Disk, Host, HostCapabilities, Vm } from "../../sdk";
import { closeAllSshTransports } from "../../provider/transport";
import { parsePinnedKey } from "../../provider/transport/hostKey";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { killProcess, liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { testbed } from "../testbed/testbed";
import { capture, withStack } from "./harness";

const PORT = 2200;

/** An sshd of this test's own, in a test host's namespace; `rotate` gives it a new host key. */
class OwnSshd {
  readonly dir = mkdtempSync(path.join(tmpdir(), "pq-rotate-sshd-"));
  constructor(private readonly netns: string, private readonly address: string, private readonly user: string) {}

  /** A new ed25519 key pair in this test's directory: [private key text, public key line]. */
  keyPair(name: string): [string, string] {
    const file = path.join(this.dir, name);
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
    return [readFileSync(file, "utf8"), readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" ")];
  }

  /** Only `clientPublicKey` is let in from now on (sshd reads the file at each login). */
  authorize(clientPublicKey: string): void {
    writeFileSync(path.join(this.dir, `authorized_keys.${this.user}`), `${clientPublicKey}\n`);
  }

  /** (Re)starts sshd with a new host key and only `clientPublicKey` authorized; returns the host key line. */
  restart(clientPublicKey: string): string {
    this.stop();
    const [, hostKey] = this.keyPair("host_key");
    this.authorize(clientPublicKey);
    writeFileSync(path.join(this.dir, "sshd_config"), [
      `ListenAddress ${this.address}`, `Port ${PORT}`, `HostKey ${this.dir}/host_key`, `PidFile ${this.dir}/sshd.pid`,
      `AuthorizedKeysFile ${this.dir}/authorized_keys.%u`, "PermitRootLogin prohibit-password", "PasswordAuthentication no",
      "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "AllowTcpForwarding yes", "AllowStreamLocalForwarding yes",
      "MaxSessions 10", "",
    ].join("\n"));
    execFileSync("ip", ["netns", "exec", this.netns, "/usr/sbin/sshd", "-f", `${this.dir}/sshd_config`, "-E", `${this.dir}/sshd.log`]);
    for (let i = 0; i < 50 && !existsSync(`${this.dir}/sshd.pid`); i++) execFileSync("sleep", ["0.1"]);
    return hostKey;
  }

  stop(): void {
    const pidFile = `${this.dir}/sshd.pid`;
    if (!existsSync(pidFile)) return;
    try {
      process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
    } catch { /* already gone */ }
    rmSync(pidFile, { force: true });
  }
}

describe("e2e: a rotated host key and client key (real CLI)", function () {
  this.timeout(10 * 60 * 1000);
  const bed = testbed();
  const h2 = bed.hosts[1];
  const sshd = new OwnSshd("pqemu-h2", h2.address, bed.rootUser);
  // This sshd runs in h2's network namespace on this machine's files (not in h2's own mount namespace):
  // its working directory is this machine's too.
  const workDir = path.join(sshd.dir, "work");
  after(() => {
    for (const pid of liveQemuPids(`-pidfile ${workDir}/`)) killProcess(pid); // a failed test's VM
    sshd.stop();
    closeAllSshTransports();
    rmSync(sshd.dir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it("preview refuses the new host key naming both; after the user sets the new keys: Host update, dependents updated in place, same PIDs; refresh steady; destroy", async () => {
    mkdirSync(workDir, { recursive: true });
    writeFileSync(`${workDir}/halt.img`, haltBootSector());
    const [oldPrivate, oldPublic] = sshd.keyPair("client_old");
    const oldHostKey = sshd.restart(oldPublic);
    const keys = { privateKey: oldPrivate, hostKey: oldHostKey };
    const program = async () => {
      const host = new Host("h2-rotating", { address: h2.address, port: PORT, user: bed.rootUser, ...keys, workDir });
      new HostCapabilities("caps", { host: host.connection, guestArch: "x86_64" });
      new Disk("scratch", { host: host.connection, size: "16M" });
      const vm = new Vm("halts", { ...haltingVm(undefined as never, "halts", `${workDir}/halt.img`), host: host.connection });
      return { pid: vm.pid, fingerprint: host.hostKeyFingerprint };
    };
    await withStack("rotate", program, async (h) => {
      const up = await h.stack.up(capture(h));
      assert.deepStrictEqual(up.summary.resourceChanges, { create: 5 });
      const [pid] = liveQemuPids(`-pidfile ${workDir}/`);
      assert.strictEqual(up.outputs.pid.value, pid);

      // The host is reinstalled (new host key) and the deploy key rotated (the old one no longer let in).
      const [newPrivate, newPublic] = sshd.keyPair("client_new");
      const newHostKey = sshd.restart(newPublic);
      const [oldPrint, newPrint] = [oldHostKey, newHostKey].map((k) => parsePinnedKey(k).fingerprint);
      await assert.rejects(h.stack.preview({ refresh: true, ...capture(h) }), (e: Error) =>
        e.message.includes(oldPrint) && e.message.includes(newPrint));

      Object.assign(keys, { privateKey: newPrivate, hostKey: newHostKey });
      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual(preview.changeSummary, { same: 1, update: 4 }, "the Host and its three dependents updated in place, nothing replaced");

      const rotated = await h.stack.up(capture(h));
      assert.deepStrictEqual(rotated.summary.resourceChanges, { same: 1, update: 4 });
      assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), [pid], "the VM was restarted");
      assert.strictEqual(rotated.outputs.fingerprint.value, newPrint);

      const refresh = await h.stack.refresh(capture(h));
      assert.deepStrictEqual(refresh.summary.resourceChanges, { same: 5 });
      await h.stack.preview({ expectNoChanges: true, ...capture(h) });

      await h.stack.destroy(capture(h));
      assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
      assert.deepStrictEqual(await vmStateDirs(workDir, "halts"), [], "destroy left the VM's state directory");
      assert.deepStrictEqual(readdirSync(`${workDir}/disks`).filter((f) => f.includes("scratch")), [], "destroy left the disk or its owner record");
    });
  });

  // qemu:hostKey is a plain key and becomes the Host's input; the secret qemu:privateKey never
  // does, so its rotation alone is the case to show.
  it("a rotated secret qemu:privateKey in the stack config: the Host and its VM updated in place, same PID", async () => {
    const configDir = `${workDir}/from-config`;
    mkdirSync(configDir, { recursive: true });
    writeFileSync(`${configDir}/halt.img`, haltBootSector());
    const [oldPrivate, oldPublic] = sshd.keyPair("client_old");
    const oldHostKey = sshd.restart(oldPublic);
    const program = async () => {
      const host = new Host("default-host");
      const vm = new Vm("halts", { ...haltingVm(undefined as never, "halts", `${configDir}/halt.img`), host: host.connection });
      return { pid: vm.pid };
    };
    await withStack("rotate-config", program, async (h) => {
      const config = (hostKey: string, privateKey: string) => h.stack.setAllConfig({
        "qemu:host": { value: `${bed.rootUser}@${h2.address}:${PORT}` }, "qemu:workDir": { value: configDir },
        "qemu:hostKey": { value: hostKey }, "qemu:privateKey": { value: privateKey, secret: true },
      });
      await config(oldHostKey, oldPrivate);
      const up = await h.stack.up(capture(h));
      assert.deepStrictEqual(up.summary.resourceChanges, { create: 3 });
      const [pid] = liveQemuPids(`-pidfile ${configDir}/`);
      assert.ok(pid, "no QEMU after up");

      const [newPrivate, newPublic] = sshd.keyPair("client_new");
      sshd.authorize(newPublic);
      await assert.rejects(h.stack.refresh(capture(h)), /authentication/i, "the old key still let in");
      await config(oldHostKey, newPrivate);
      const preview = await h.stack.preview(capture(h));
      assert.deepStrictEqual(preview.changeSummary, { same: 1, update: 2 }, "the Host and its VM updated in place, nothing replaced");
      const rotated = await h.stack.up(capture(h));
      assert.deepStrictEqual(rotated.summary.resourceChanges, { same: 1, update: 2 });
      assert.deepStrictEqual(liveQemuPids(`-pidfile ${configDir}/`), [pid], "the VM was restarted");

      const refresh = await h.stack.refresh(capture(h));
      assert.deepStrictEqual(refresh.summary.resourceChanges, { same: 3 });
      await h.stack.destroy(capture(h));
      assert.deepStrictEqual(liveQemuPids(`-pidfile ${configDir}/`), []);
      assert.deepStrictEqual(await vmStateDirs(configDir, "halts"), [], "destroy left the VM's state directory");
    });
  });
});
