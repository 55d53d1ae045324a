/** The embedded default: the machine the Pulumi program runs on, through child_process and net. */
import { spawn, type ChildProcessWithoutNullStreams } from "child_process";
import { randomBytes } from "crypto";
import { createWriteStream, promises as fs } from "fs";
import * as net from "net";
import * as path from "path";
import { Readable, type Duplex } from "stream";
import { pipeline } from "stream/promises";
import { QemuError, TransportError } from "../errors";
import { boundedOutput, type ExecOptions, type ExecResult, type Platform, type SizedStream, type Transport, type WriteOptions } from "./types";
import { withPrefix } from "./windows";
import { LOCAL_PLATFORM, platformIo } from "./platformIo";

export class LocalTransport implements Transport {
  readonly description = "local";
  /** The machine the program runs on: Windows runs scripts through PowerShell, every other OS through sh. */
  readonly platform: Platform = LOCAL_PLATFORM;

  async exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    const { stdoutBytes, ...result } = await this.execBuffer(argv, options);
    return { ...result, stdout: stdoutBytes.toString("utf8") };
  }

  execBuffer(argv: string[], options: ExecOptions = {}): Promise<ExecResult & { stdoutBytes: Buffer }> {
    // As over SSH: a Windows script goes on stdin (a command line is limited to 32767 characters).
    const local = platformIo(this.platform).localCommand(argv);
    argv = local.argv;
    if (local.stdinPrefix) options = { ...options, stdin: withPrefix(local.stdinPrefix, options.stdin) };
    return new Promise((resolve, reject) => {
      const child = spawnPrivate(argv);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      if (options.timeoutMs) {
        timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, options.timeoutMs);
      }
      const take = boundedOutput("local", argv, options, out, err, () => {
        clearTimeout(timer);
        child.kill("SIGKILL");
      }, reject);
      child.stdout.on("data", take.stdout);
      child.stderr.on("data", take.stderr);
      child.stdin.on("error", () => undefined); // a program that exits without reading stdin
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(new TransportError("CONNECT_FAILED", "local", `cannot run ${argv[0]}: ${e.message}`, { cause: e }));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(new QemuError("TIMEOUT", `local: \`${argv.join(" ")}\` did not finish within ${options.timeoutMs} ms`));
          return;
        }
        const stdoutBytes = Buffer.concat(out);
        resolve({ stdout: "", stdoutBytes, stderr: Buffer.concat(err).toString("utf8"), exitCode: code, signal });
      });
      if (options.stdin instanceof Readable) options.stdin.pipe(child.stdin);
      else child.stdin.end(options.stdin ?? "");
    });
  }

  async writeFile(filePath: string, data: string | Buffer | SizedStream, options: WriteOptions = {}): Promise<void> {
    const tmp = path.join(path.dirname(filePath), `.${path.basename(filePath)}.tmp-${randomBytes(6).toString("hex")}`);
    try {
      if (typeof data === "string" || Buffer.isBuffer(data)) await fs.writeFile(tmp, data, { mode: options.mode ?? 0o600, flag: "wx" });
      else await writeStream(tmp, data, options);
      await fs.chmod(tmp, options.mode ?? 0o600);
      await fs.rename(tmp, filePath);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  readFile(filePath: string): Promise<Buffer> {
    return fs.readFile(filePath);
  }

  connectUnix(socketPath: string): Promise<Duplex> {
    return this.connectSocket({ path: socketPath }, socketPath);
  }

  connectTcp(host: string, port: number): Promise<Duplex> {
    return this.connectSocket({ host, port }, `${host}:${port}`);
  }

  private connectSocket(options: net.NetConnectOpts, socketPath: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(options);
      socket.once("connect", () => {
        socket.removeListener("error", reject);
        resolve(socket);
      });
      socket.once("error", (e) =>
        reject(new TransportError("CONNECT_FAILED", "local", `cannot connect to ${socketPath}: ${e.message}`, { cause: e })));
    });
  }

  async close(): Promise<void> {}
}

/** A sized stream to a new file, in constant memory; short or late is an error. */
async function writeStream(file: string, data: SizedStream, options: WriteOptions): Promise<void> {
  const out = createWriteStream(file, { mode: options.mode ?? 0o600, flags: "wx" });
  const timer = options.timeoutMs ? setTimeout(() => data.stream.destroy(new QemuError("TIMEOUT", `local: writing ${file} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs) : undefined;
  try {
    await pipeline(data.stream, out);
  } finally {
    clearTimeout(timer);
  }
  const { size } = await fs.stat(file);
  if (size !== data.size) throw new QemuError("COMMAND_FAILED", `local: writing ${file}: short write: ${size} of ${data.size} bytes`);
}

/**
 * What a command creates is private to its user (files 0600, directories 0700) from the first
 * byte, as over SSH: the child inherits umask 077, set only around the (synchronous) spawn.
 */
function spawnPrivate(argv: string[]): ChildProcessWithoutNullStreams {
  const before = platformIo(LOCAL_PLATFORM).privateUmask ? process.umask(0o077) : undefined;
  try {
    return spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  } finally {
    if (before !== undefined) process.umask(before);
  }
}
