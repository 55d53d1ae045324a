/**
 * SSH transport: one pooled connection per host per process, channels capped below sshd's
 * MaxSessions, bounded connect retries with backoff and jitter, host keys verified by default.
 */
import { createHash, randomBytes } from "crypto";
import type { Client, ClientChannel } from "ssh2";
import { Readable, type Duplex } from "stream";
import { expectSuccess, QemuError, TransportError } from "../errors";
import { platformIo } from "./platformIo";
import { Semaphore } from "./semaphore";
import { openConnection, type OpenedConnection } from "./sshConnect";
import { describeHop, validateSshOptions, type SshOptions } from "./sshOptions";
import { countSsh } from "./stats";
import { boundedOutput, type ExecOptions, type ExecResult, type Platform, type SizedStream, type Transport, type WriteOptions } from "./types";
import { withPrefix } from "./windows";

const NOT_RETRIED = new Set(["HOST_KEY_MISMATCH", "HOST_KEY_UNKNOWN", "AUTH_FAILED"]);
const CHANNEL_OPEN_RETRIES = 6;

export class SshTransport implements Transport {
  readonly description: string;
  readonly platform: Platform;
  /** Successful connections to the target so far (for tests and benchmarks). */
  connectionsOpened = 0;
  /** Channels (program runs, socket forwards) opened so far: one round trip each. */
  channelsOpened = 0;
  /** The target's key fingerprint as verified on the last connection. */
  hostKeyFingerprint?: string;
  private connection?: OpenedConnection;
  private connecting?: Promise<OpenedConnection>;
  private readonly channels: Semaphore;
  private inFlight = 0;
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly options: SshOptions) {
    validateSshOptions(options);
    this.description = describeHop(options);
    this.platform = options.platform ?? "posix";
    this.channels = new Semaphore(options.maxChannels ?? 8);
  }

  async exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    const { stdoutBytes, ...result } = await this.execBuffer(argv, options);
    return { ...result, stdout: stdoutBytes.toString("utf8") };
  }

  execBuffer(argv: string[], options: ExecOptions = {}): Promise<ExecResult & { stdoutBytes: Buffer }> {
    // With a timeout, a POSIX shell first prints its PID (the program keeps it) so that the
    // program can be killed: sshd ignores SSH signal requests for sessions without a tty.
    const { command, stdinPrefix, pidFirst: withPid } = platformIo(this.platform).sshCommand(argv, options.timeoutMs !== undefined);
    if (stdinPrefix) options = { ...options, stdin: withPrefix(stdinPrefix, options.stdin) };
    return this.withChannel(async (client, release) => {
      // The exit status must be listened for inside the callback: for a short program it can
      // come in the same packet batch as the session's confirmation, before any await resumes.
      let exit!: ExitRecord;
      const stream = await this.openChannel(() => new Promise<ClientChannel>((resolve, reject) =>
        client.exec(command, (err, s) => (err ? reject(err) : (exit = recordExit(s), resolve(s))))), release, `a session for \`${argv.join(" ")}\``, true);
      const result = await collect(stream, exit, argv, this.description, options, (pid) => void this.exec(["kill", "-KILL", pid]).catch(() => undefined));
      if (result.exitCode === null && result.signal === null) {
        // sshd always reports how the program ended; without that, the session or the
        // connection was cut under it and we cannot know whether it ran to its end.
        throw new TransportError("TRANSPORT_CLOSED", this.description,
          `${this.description}: \`${argv.join(" ")}\` ended without an exit status: the SSH session closed under it`);
      }
      return withPid ? { ...result, stdoutBytes: result.stdoutBytes.subarray(result.stdoutBytes.indexOf(10) + 1) } : result;
    });
  }

  async writeFile(path: string, data: string | Buffer | SizedStream, options: WriteOptions = {}): Promise<void> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    const suffix = randomBytes(6).toString("hex");
    const argv = platformIo(this.platform).atomicWrite(path, size, options.mode ?? 0o600, suffix);
    const r = await this.exec(argv, { stdin: Buffer.isBuffer(body) ? body : body.stream, timeoutMs: options.timeoutMs });
    expectSuccess(`${this.description}: writing ${path}`, argv, r, ["sh", "-c", "<atomic write>", path]);
  }

  /** A read changes nothing, so a read cut off by a lost session is simply read again. */
  async readFile(path: string): Promise<Buffer> {
    const argv = platformIo(this.platform).readFile(path);
    for (let attempt = 0; ; attempt++) {
      try {
        return expectSuccess(this.description, argv, await this.execBuffer(argv)).stdoutBytes;
      } catch (e) {
        if ((e as QemuError).code !== "TRANSPORT_CLOSED" || attempt >= 2) throw e;
      }
    }
  }

  /** Through OpenSSH streamlocal forwarding: no socat needed on the host. The slot is held while the stream is open. */
  connectUnix(path: string): Promise<Duplex> {
    return this.withChannel(async (client, release) => {
      const stream = await this.openChannel(() => new Promise<ClientChannel>((resolve, reject) =>
        client.openssh_forwardOutStreamLocal(path, (err, s) => (err ? reject(err) : resolve(s)))), release, `Unix socket ${path}`, false);
      return stream;
    }, { holdSlot: true });
  }

  /** Through a direct-tcpip channel: the connection starts on the host, as if made there. */
  connectTcp(host: string, port: number): Promise<Duplex> {
    return this.withChannel(async (client, release) => {
      const stream = await this.openChannel(() => new Promise<ClientChannel>((resolve, reject) =>
        client.forwardOut("127.0.0.1", 0, host, port, (err, s) => (err ? reject(err) : resolve(s)))), release, `TCP ${host}:${port}`, false);
      return stream;
    }, { holdSlot: true });
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) connection.chain[0].end();
  }

  /** Runs `use` with a channel slot and a live connection; the slot is freed when the channel closes. */
  private async withChannel<T>(use: (client: Client, release: () => void) => Promise<T>, how: { holdSlot?: boolean } = {}): Promise<T> {
    const releaseSlot = await this.channels.acquire();
    this.inFlight++;
    clearTimeout(this.idleTimer);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      releaseSlot();
      this.inFlight--;
      if (this.inFlight === 0) this.scheduleIdleClose();
    };
    try {
      const client = (await this.connect()).client;
      const result = await use(client, release);
      if (!how.holdSlot) release();
      return result;
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Opens a channel; if the pooled connection died under us, reconnects once (nothing ran yet). */
  private async openChannel(open: () => Promise<ClientChannel>, release: () => void, what: string, retryRefusal: boolean): Promise<ClientChannel> {
    let stream: ClientChannel;
    try {
      stream = await this.openWithRetries(open, retryRefusal);
    } catch (e) {
      throw e instanceof QemuError ? e
        : new TransportError("CONNECT_FAILED", this.description, `${this.description}: cannot open ${what}: ${(e as Error).message}`, { cause: e });
    }
    this.channelsOpened++;
    countSsh("channels");
    stream.once("close", release);
    return stream;
  }

  /**
   * A refused session open means nothing ran, so it is safe to try again: sshd frees a session
   * slot a little after the channel closes, so a burst at the cap can briefly exceed MaxSessions.
   * sshd gives the same reason (2, "open failed") for a missing Unix socket, so a refused
   * streamlocal channel is final.
   */
  private async openWithRetries(open: () => Promise<ClientChannel>, retryRefusal: boolean): Promise<ClientChannel> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.connection) await this.connect();
        return await open();
      } catch (e) {
        const connectionLost = !this.connection;
        if (e instanceof QemuError || !retryRefusal || attempt >= CHANNEL_OPEN_RETRIES) throw e;
        if (!connectionLost) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt) + Math.random() * 50));
      }
    }
  }

  private scheduleIdleClose(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), this.options.idleCloseMs ?? 5000);
    this.idleTimer.unref();
  }

  private connect(): Promise<OpenedConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    if (!this.connecting) {
      this.connecting = this.connectWithRetries().finally(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  private async connectWithRetries(): Promise<OpenedConnection> {
    const timeoutMs = this.options.connectTimeoutMs ?? 10000;
    const deadline = Date.now() + timeoutMs;
    const retries = this.options.retries ?? 2;
    const hops = [...(this.options.jumpHosts ?? []), this.options];
    for (let attempt = 0; ; attempt++) {
      try {
        const connection = await openConnection(hops, deadline, this.options.keepaliveIntervalMs ?? 15000);
        this.connectionsOpened++;
        countSsh("connections");
        this.hostKeyFingerprint = connection.hostKeyFingerprint;
        connection.client.on("close", () => {
          if (this.connection === connection) this.connection = undefined;
        });
        this.connection = connection;
        return connection;
      } catch (e) {
        const code = (e as QemuError).code;
        const backoff = Math.min(4000, 250 * 2 ** attempt) + Math.random() * 250;
        if (NOT_RETRIED.has(code) || attempt >= retries || Date.now() + backoff >= deadline) throw e;
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }
}

interface ExitRecord { exitCode: number | null; signal: string | null }

function recordExit(stream: ClientChannel): ExitRecord {
  const exit: ExitRecord = { exitCode: null, signal: null };
  stream.on("exit", (code: number | null, sig?: string) => {
    exit.exitCode = code ?? null;
    exit.signal = sig ? (sig.startsWith("SIG") ? sig : `SIG${sig}`) : null;
  });
  return exit;
}

function collect(stream: ClientChannel, exit: ExitRecord, argv: string[], where: string, options: ExecOptions,
  kill: (pid: string) => void): Promise<ExecResult & { stdoutBytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    /** Kills the program by the PID its shell printed first (when asked to), and closes the session. */
    const end = () => {
      const pid = /^(\d+)\n/.exec(Buffer.concat(out).toString("latin1"))?.[1];
      if (pid) kill(pid);
      stream.close();
    };
    if (options.timeoutMs) {
      timer = setTimeout(() => {
        end();
        reject(new QemuError("TIMEOUT", `${where}: \`${argv.join(" ")}\` did not finish within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
    }
    const take = boundedOutput(where, argv, options, out, err, () => {
      clearTimeout(timer);
      end();
    }, reject);
    stream.on("data", take.stdout);
    stream.stderr.on("data", take.stderr);
    stream.on("error", () => undefined);
    stream.on("close", () => {
      clearTimeout(timer);
      resolve({ stdout: "", stdoutBytes: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), ...exit });
    });
    if (options.stdin instanceof Readable) {
      options.stdin.on("error", (e) => { clearTimeout(timer); stream.close(); reject(e); });
      options.stdin.pipe(stream);
    } else {
      stream.end(options.stdin ?? undefined);
    }
  });
}


const pool = new Map<string, SshTransport>();

/** The process-wide connection for these options: every resource on one host shares it. */
export function sshTransport(options: SshOptions): SshTransport {
  const key = createHash("sha256").update(JSON.stringify(options)).digest("hex");
  let transport = pool.get(key);
  if (!transport) {
    transport = new SshTransport(options);
    pool.set(key, transport);
  }
  return transport;
}

export async function closeAllSshTransports(): Promise<void> {
  const all = [...pool.values()];
  pool.clear();
  await Promise.all(all.map((t) => t.close()));
}
