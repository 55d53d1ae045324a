/** What every Transport must do, run against each real transport the tests can reach. */
import * as assert from "assert";
import { Readable } from "stream";
import { randomBytes } from "crypto";
import { QemuError } from "../../provider/errors";
import { platformIo } from "../../provider/transport/platformIo";
import type { Transport } from "../../provider/transport";

/**
 * The program's own stderr: a login shell that sources ~/.bashrc may write before the program
 * starts (this machine's root runs `pyenv init`, whose rehash races with other sessions and
 * complains now and then). What the shell wrote first is the host's; the program's text is
 * the tail, and it must be there whole.
 */
function programStderr(stderr: string, expected: string): string {
  return stderr.endsWith(expected) ? expected : stderr;
}

export function transportContract(label: string, make: () => Transport, workDir: () => string): void {
  describe(`Transport contract: ${label}`, function () {
    let t: Transport;
    let dir: string;
    before(async () => {
      t = make();
      dir = `${workDir()}/contract-${randomBytes(4).toString("hex")}`;
      const made = await t.exec(["mkdir", "-p", dir]);
      assert.strictEqual(made.exitCode, 0, made.stderr);
    });
    after(async () => {
      await t.exec(["rm", "-rf", "--", dir]);
    });

    it("runs an argv and reports stdout, stderr and exit code", async () => {
      const r = await t.exec(["sh", "-c", 'echo out; echo warn >&2; exit 3']);
      assert.deepStrictEqual({ ...r, stderr: programStderr(r.stderr, "warn\n") }, { stdout: "out\n", stderr: "warn\n", exitCode: 3, signal: null });
    });

    it("runs every command with umask 077: what it creates is private to the user (issue 18, class 3)", async () => {
      const r = await t.exec(["sh", "-c", 'umask; mkdir "$1/d"; : > "$1/f"; stat -c "%a" "$1/d" "$1/f"', "sh", dir]);
      assert.deepStrictEqual(r.stdout.split("\n").filter(Boolean), ["0077", "700", "600"], r.stderr);
    });

    it("stops a command whose output passes the bound, and says so; one within it is whole (issue 18, class 10)", async () => {
      // exec: the program that keeps the PID is what the bound ends (no child left behind).
      const flood = ["sh", "-c", "head -c 3000000 /dev/zero; exec sleep 30"];
      await assert.rejects(t.exec(flood, { maxOutputBytes: 1000000, timeoutMs: 20000 }), /printed more than 1000000 bytes; it was stopped and its output dropped/);
      const whole = await t.exec(["sh", "-c", "head -c 999999 /dev/zero"], { maxOutputBytes: 1000000 });
      assert.strictEqual(whole.stdout.length, 999999);
    });

    it("treats output on stderr with exit code 0 as success", async () => {
      const r = await t.exec(["sh", "-c", "echo warning: deprecated >&2"]);
      assert.strictEqual(r.exitCode, 0);
      assert.strictEqual(programStderr(r.stderr, "warning: deprecated\n"), "warning: deprecated\n");
    });

    it("reports a program killed by a signal", async () => {
      const r = await t.exec(["sh", "-c", "kill -TERM $$"]);
      assert.strictEqual(r.signal, "SIGTERM");
      assert.strictEqual(r.exitCode, null);
    });

    it("passes stdin to the program", async () => {
      const r = await t.exec(["wc", "-c"], { stdin: "12345" });
      assert.strictEqual(r.stdout.trim(), "5");
    });

    it("ends a program that outlives its timeout", async () => {
      const started = Date.now();
      const marker = `sleep-marker-${randomBytes(4).toString("hex")}`;
      await assert.rejects(t.exec(["sh", "-c", "exec sleep 30", marker], { timeoutMs: 500 }), (e: QemuError) => e.code === "TIMEOUT");
      assert.ok(Date.now() - started < 5000);
      // The program is gone from the host, not only abandoned.
      await new Promise((r) => setTimeout(r, 300));
      const left = await t.exec(["sh", "-c", 'ps -eo args | grep -c "^sleep 30$" || true']);
      assert.strictEqual(left.stdout.trim(), "0");
    });

    it("writes a file atomically and reads the same bytes back", async () => {
      const data = randomBytes(1 << 20);
      const file = `${dir}/blob.bin`;
      await t.writeFile(file, data, { mode: 0o640 });
      assert.ok((await t.readFile(file)).equals(data));
      const mode = await t.exec(["stat", "-c", "%a", file]);
      assert.strictEqual(mode.stdout.trim(), "640");
      const leftovers = await t.exec(["sh", "-c", `ls -a "$1" | grep -c tmp || true`, "sh", dir]);
      assert.strictEqual(leftovers.stdout.trim(), "0");
    });

    it("writes a sized stream as it is read, and refuses one that ends short, leaving the old file", async () => {
      const data = randomBytes(3 << 20);
      const file = `${dir}/streamed.bin`;
      await t.writeFile(file, { stream: Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)]), size: data.length }, { mode: 0o600 });
      assert.ok((await t.readFile(file)).equals(data));
      await assert.rejects(t.writeFile(file, { stream: Readable.from([randomBytes(10)]), size: 1000 }), /short write: 10 of 1000 bytes/);
      assert.ok((await t.readFile(file)).equals(data), "a short stream replaced the file");
      const leftovers = await t.exec(["sh", "-c", `ls -a "$1" | grep -c tmp || true`, "sh", dir]);
      assert.strictEqual(leftovers.stdout.trim(), "0");
    });

    it("replaces an existing file whole", async () => {
      const file = `${dir}/replace.txt`;
      await t.writeFile(file, "first version, longer than the second\n");
      await t.writeFile(file, "second\n");
      assert.strictEqual((await t.readFile(file)).toString(), "second\n");
    });

    it("leaves neither a partial file nor a temp file when an upload is cut short", async () => {
      const file = `${dir}/cut.bin`;
      await t.writeFile(file, "old contents\n");
      // The same script the SSH transport runs, told to expect more bytes than arrive.
      const r = await t.exec(platformIo("posix").atomicWrite(file, 1000, 0o600, "cut"), { stdin: randomBytes(10) });
      assert.notStrictEqual(r.exitCode, 0);
      assert.match(r.stderr, /short write: 10 of 1000 bytes/);
      assert.strictEqual((await t.readFile(file)).toString(), "old contents\n");
      const listing = await t.exec(["ls", "-a", dir]);
      assert.doesNotMatch(listing.stdout, /cut\.bin\.tmp/);
    });

    it("fails to write into a missing directory without creating anything", async () => {
      await assert.rejects(t.writeFile(`${dir}/missing/x`, "x"));
      const r = await t.exec(["test", "-e", `${dir}/missing`]);
      assert.strictEqual(r.exitCode, 1);
    });

    it("fails to read a missing file with an error naming it", async () => {
      await assert.rejects(t.readFile(`${dir}/nope`), /nope/);
    });

    it("opens a stream to a Unix socket on the host (QMP of a real QEMU)", async () => {
      const sock = `${dir}/qmp.sock`;
      const pidfile = `${dir}/qemu.pid`;
      const started = await t.exec(["qemu-system-x86_64", "-M", "none", "-display", "none", "-daemonize",
        "-pidfile", pidfile, "-qmp", `unix:${sock},server=on,wait=off`]);
      assert.strictEqual(started.exitCode, 0, started.stderr);
      try {
        const stream = await t.connectUnix(sock);
        const greeting = await new Promise<string>((resolve, reject) => {
          let text = "";
          stream.on("data", (d: Buffer) => {
            text += d.toString();
            if (text.includes("\n")) resolve(text);
          });
          stream.on("error", reject);
        });
        stream.destroy();
        assert.ok(JSON.parse(greeting.split("\n")[0]).QMP.version.qemu.major >= 7, greeting);
      } finally {
        await t.exec(["sh", "-c", 'kill "$(cat "$1")"', "sh", pidfile]);
      }
    });

    it("fails to open a missing Unix socket with an error naming it", async () => {
      await assert.rejects(t.connectUnix(`${dir}/absent.sock`), /absent\.sock/);
    });

    it("runs 15 operations in parallel on one host", async () => {
      const results = await Promise.all(Array.from({ length: 15 }, (_, i) =>
        t.exec(["sh", "-c", 'sleep 0.2; echo "$1"', "sh", String(i)])));
      assert.deepStrictEqual(results.map((r) => r.stdout.trim()), Array.from({ length: 15 }, (_, i) => String(i)));
    });
  });
}
