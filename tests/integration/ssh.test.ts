/** What only the SSH transport does: pooling, channel caps, host keys, timeouts, jump hosts, agents. */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as net from "net";
import { tmpdir } from "os";
import * as path from "path";
import { HostKeyError, InvalidArgumentError, QemuError, TransportError } from "../../provider/errors";
import { SshTransport } from "../../provider/transport";
import { fingerprint } from "../../provider/transport/hostKey";
import { acceptedLogins, connectionsSeen, sshOptionsFor, testbed } from "../testbed/testbed";

const [h1, h2, h3] = testbed().hosts;
const keyFingerprint = (line: string) => fingerprint(Buffer.from(line.split(" ")[1], "base64"));

describe("SshTransport", function () {
  const opened: SshTransport[] = [];
  const open = (options: ConstructorParameters<typeof SshTransport>[0]) => {
    const t = new SshTransport(options);
    opened.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
  });

  it("opens one connection for many operations, counted by sshd itself", async () => {
    const before = acceptedLogins(h1);
    const t = open(sshOptionsFor(h1));
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 10 }, () => t.exec(["true"])));
    }
    await t.readFile("/etc/hostname");
    assert.strictEqual(t.connectionsOpened, 1);
    assert.strictEqual(acceptedLogins(h1) - before, 1);
  });

  it("every short program reports its exit status, even when it ends in the packets that confirm its session", async () => {
    const t = open(sshOptionsFor(h2));
    const codes: Array<number | null> = [];
    for (let round = 0; round < 20; round++) {
      codes.push(...(await Promise.all(Array.from({ length: 8 }, () => t.exec(["sh", "-c", "exit 3"])))).map((r) => r.exitCode));
    }
    assert.deepStrictEqual(codes.filter((c) => c !== 3), []);
  });

  it("a session cut off under a program is an error (not exit code null); the next operation reconnects", async () => {
    const logins = acceptedLogins(h1);
    const t = open(sshOptionsFor(h1));
    // The program's parent is the sshd process serving this connection: killing it cuts the
    // session before sshd can report an exit status.
    await assert.rejects(t.exec(["sh", "-c", "kill -KILL $PPID; sleep 2"]),
      (e: QemuError) => e.code === "TRANSPORT_CLOSED" && /ended without an exit status/.test(e.message));
    assert.strictEqual((await t.exec(["echo", "again"])).stdout, "again\n");
    assert.strictEqual(t.connectionsOpened, 2);
    assert.strictEqual(acceptedLogins(h1) - logins, 2, "h1's sshd accepted a second login");
  });

  it("a read cut off by a lost session is read again", async () => {
    const t = open(sshOptionsFor(h1));
    // The host's files and processes, through a connection of their own (the host is another machine).
    const admin = open(sshOptionsFor(h1));
    const onH1 = async (script: string, ...args: string[]) => (await admin.exec(["sh", "-c", script, "sh", ...args])).stdout;
    const fifo = `${h1.workDir}/cut-read.fifo`;
    await onH1('rm -f "$1"; mkfifo "$1"', fifo);
    try {
      const read = t.readFile(fifo);
      // The first `cat` blocks on the FIFO: end it together with its session, then feed the second.
      const readers = async () => (await onH1('pgrep -f "^cat -- $1" || true', fifo)).split("\n").filter(Boolean);
      await waitForAsync(async () => (await readers()).length === 1);
      const [firstCat] = await readers();
      const session = (await onH1('ps -o ppid= -p "$1"', firstCat)).trim();
      await onH1('kill -KILL "$1" "$2"', firstCat, session);
      await waitForAsync(async () => { const r = await readers(); return r.length === 1 && r[0] !== firstCat; });
      await onH1('printf second > "$1"', fifo);
      assert.strictEqual((await read).toString(), "second");
      assert.strictEqual(t.connectionsOpened, 2);
    } finally {
      await onH1('rm -f "$1"', fifo);
    }
  });

  it("queues channels below MaxSessions: 15 parallel operations, never more than maxChannels at once", async () => {
    const t = open(sshOptionsFor(h2, { maxChannels: 4 }));
    const dir = `${h2.workDir}/concurrency`;
    await t.exec(["mkdir", "-p", dir]);
    // Each operation records how many run at once (files present while it sleeps).
    const script = 'touch "$1/$2"; n=$(ls "$1" | wc -l); sleep 0.3; rm "$1/$2"; echo "$n"';
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => t.exec(["sh", "-c", script, "sh", dir, `op${i}`])));
    await t.exec(["rm", "-rf", dir]);
    assert.ok(results.every((r) => r.exitCode === 0));
    const peak = Math.max(...results.map((r) => Number(r.stdout.trim())));
    assert.ok(peak <= 4, `peak concurrency ${peak} exceeds maxChannels 4`);
    assert.ok(peak >= 2, `operations did not overlap (peak ${peak})`);
  });

  it("with the default cap, 15 parallel operations exceed sshd MaxSessions=10 and still all succeed", async () => {
    const t = open(sshOptionsFor(h3));
    const results = await Promise.all(Array.from({ length: 15 }, () => t.exec(["sleep", "0.5"])));
    assert.ok(results.every((r) => r.exitCode === 0));
  });

  it("refuses a changed host key, naming the host and both fingerprints", async () => {
    const t = open(sshOptionsFor(h1, { hostKey: h2.hostKey, retries: 2 }));
    const before = acceptedLogins(h1);
    await assert.rejects(t.exec(["true"]), (e: HostKeyError) => {
      assert.strictEqual(e.code, "HOST_KEY_MISMATCH");
      assert.ok(e.message.includes(`${testbed().rootUser}@${h1.address}:22`), e.message);
      assert.ok(e.message.includes(keyFingerprint(h2.hostKey)), e.message);
      assert.ok(e.message.includes(keyFingerprint(h1.hostKey)), e.message);
      return true;
    });
    assert.strictEqual(acceptedLogins(h1), before, "no login may happen with a wrong host key");
  });

  it("accepts a pinned SHA256 fingerprint", async () => {
    const t = open(sshOptionsFor(h1, { hostKey: keyFingerprint(h1.hostKey) }));
    assert.strictEqual((await t.exec(["echo", "ok"])).stdout, "ok\n");
  });

  describe("known_hosts", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-kh-"));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("verifies against a hashed known_hosts file written by ssh-keygen -H", async () => {
      const file = path.join(dir, "known_hosts");
      writeFileSync(file, `${h2.address} ${h2.hostKey}\n${h1.address} ${h1.hostKey}\n`);
      execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
      assert.doesNotMatch(readFileSync(file, "utf8"), new RegExp(h1.address.replace(/\./g, "\\.")));
      const t = open({ ...sshOptionsFor(h1), hostKey: undefined, knownHostsFile: file });
      assert.strictEqual((await t.exec(["echo", "ok"])).stdout, "ok\n");
    });

    it("refuses a host that known_hosts does not list", async () => {
      const file = path.join(dir, "other_hosts");
      writeFileSync(file, `${h2.address} ${h2.hostKey}\n`);
      const t = open({ ...sshOptionsFor(h1), hostKey: undefined, knownHostsFile: file });
      await assert.rejects(t.exec(["true"]), (e: QemuError) => e.code === "HOST_KEY_UNKNOWN" && e.message.includes(h1.address));
    });

    it("refuses a key listed for the host but marked @revoked", async () => {
      const file = path.join(dir, "revoked_hosts");
      writeFileSync(file, `@revoked ${h1.address} ${h1.hostKey}\n${h1.address} ${h1.hostKey}\n`);
      const t = open({ ...sshOptionsFor(h1), hostKey: undefined, knownHostsFile: file });
      await assert.rejects(t.exec(["true"]), /revoked/);
    });
  });

  it("accepts any host key only with insecureAcceptAnyHostKey", async () => {
    const t = open({ ...sshOptionsFor(h3), hostKey: undefined, insecureAcceptAnyHostKey: true });
    assert.strictEqual((await t.exec(["echo", "ok"])).stdout, "ok\n");
    assert.throws(() => new SshTransport({ ...sshOptionsFor(h3), hostKey: undefined }),
      (e: InvalidArgumentError) => e.property === "hostKey" && /verification is on/.test(e.message));
  });

  it("fails within the connect timeout when the address never answers the handshake", async () => {
    // A listener that accepts TCP and then says nothing: the shape of a black-holed host.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const t = open({ ...sshOptionsFor(h1), host: "127.0.0.1", port, connectTimeoutMs: 1500 });
      const started = Date.now();
      await assert.rejects(t.exec(["true"]), (e: TransportError) => {
        assert.strictEqual(e.code, "CONNECT_TIMEOUT");
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}.*1500 ms`));
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took < 2500, `took ${took} ms for a 1500 ms timeout`);
    } finally {
      silent.close();
    }
  });

  it("fails fast with a clear message when nothing listens", async () => {
    const t = open({ ...sshOptionsFor(h1), port: 1, connectTimeoutMs: 3000 });
    await assert.rejects(t.exec(["true"]), (e: TransportError) =>
      e.code === "CONNECT_FAILED" && /ECONNREFUSED/.test(e.message) && e.message.includes(`${h1.address}:1`));
  });

  it("does not retry a refused login, and names the user and host", async () => {
    const otherKey = path.join(mkdtempSync(path.join(tmpdir(), "pulumi-qemu-key-")), "k");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
    try {
      const before = connectionsSeen(h2);
      const t = open(sshOptionsFor(h2, { privateKey: readFileSync(otherKey, "utf8"), retries: 3 }));
      await assert.rejects(t.exec(["true"]), (e: TransportError) => e.code === "AUTH_FAILED" && e.message.includes(`${testbed().rootUser}@${h2.address}`));
      assert.strictEqual(connectionsSeen(h2) - before, 1, "a refused login must be tried once");
    } finally {
      rmSync(path.dirname(otherKey), { recursive: true, force: true });
    }
  });

  it("never puts the private key or password in an error message", async () => {
    const key = readFileSync(testbed().clientKey, "utf8");
    const t = open({ ...sshOptionsFor(h1), port: 1, password: "hunter2-secret", connectTimeoutMs: 2000 });
    await assert.rejects(t.exec(["true"]), (e: Error) => {
      const text = `${e.message} ${e.stack} ${JSON.stringify(e)}`;
      assert.ok(!text.includes("hunter2-secret"));
      assert.ok(!text.includes(key.split("\n")[1]));
      return true;
    });
  });

  it("reaches a host through jump hosts (two hops)", async () => {
    const hop = { host: h1.address, user: testbed().rootUser, privateKey: readFileSync(testbed().clientKey, "utf8"), hostKey: h1.hostKey };
    const before = acceptedLogins(h1);
    const t = open({ ...sshOptionsFor(h1), jumpHosts: [hop, hop] });
    const r = await t.exec(["sh", "-c", "echo $SSH_CONNECTION"]);
    // The target sees the connection coming from the jump host's own address, not from us.
    assert.ok(r.stdout.startsWith(`${h1.address} `), r.stdout);
    assert.strictEqual(acceptedLogins(h1) - before, 3);
  });

  it("logs in with an SSH agent", async () => {
    const agentDir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-agent-"));
    const sock = path.join(agentDir, "agent.sock");
    const agent = execFileSync("ssh-agent", ["-a", sock]).toString();
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent)![1];
    try {
      execFileSync("ssh-add", [testbed().clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "ignore" });
      const t = open({ ...sshOptionsFor(h2), privateKey: undefined, agent: sock });
      assert.strictEqual((await t.exec(["whoami"])).stdout, "root\n");
    } finally {
      process.kill(Number(pid));
      rmSync(agentDir, { recursive: true, force: true });
    }
  });
});

async function waitForAsync(ok: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !await ok(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
  }
}
