import { QemuError } from "../errors";
import type { Duplex, Readable } from "stream";

/** Bytes that arrive as they are read (a large local file), with their count known up front. */
export interface SizedStream {
  stream: Readable;
  size: number;
}

export interface WriteOptions {
  mode?: number;
  timeoutMs?: number;
}

export type Platform = "posix" | "windows";
export const PLATFORMS = ["posix", "windows"] as const;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the program was ended by a signal. */
  exitCode: number | null;
  signal: string | null;
}

export interface ExecOptions {
  /** Bytes written to the program's stdin, which is then closed; a stream is piped (with backpressure). */
  stdin?: string | Buffer | Readable;
  /** Ends the program (and rejects with code TIMEOUT) after this many milliseconds. */
  timeoutMs?: number;
  /** Ends the program (and rejects) once stdout and stderr together pass this many bytes. Default MAX_EXEC_OUTPUT_BYTES. */
  maxOutputBytes?: number;
}

/** What a host may print to one command before it is stopped: a host that floods must not exhaust the provider's memory. */
export const MAX_EXEC_OUTPUT_BYTES = 64 * 2 ** 20;

/**
 * Collects a command's stdout and stderr into `out` and `err` up to options.maxOutputBytes
 * together. Past the bound, once: `stop` ends the program (it may still read `out`), both
 * buffers are dropped, and `fail` gets the error. Returns the two data listeners.
 */
export function boundedOutput(where: string, argv: string[], options: ExecOptions, out: Buffer[], err: Buffer[],
  stop: () => void, fail: (e: Error) => void): { stdout: (d: Buffer) => void; stderr: (d: Buffer) => void } {
  const max = options.maxOutputBytes ?? MAX_EXEC_OUTPUT_BYTES;
  let total = 0;
  let flooded = false;
  const take = (into: Buffer[]) => (d: Buffer) => {
    if (flooded) return;
    if ((total += d.length) <= max) return void into.push(d);
    flooded = true;
    stop();
    out.length = 0;
    err.length = 0;
    fail(new QemuError("COMMAND_FAILED", `${where}: \`${argv[0]}\` printed more than ${max} bytes; it was stopped and its output dropped`));
  };
  return { stdout: take(out), stderr: take(err) };
}

/** How every part of the package reaches a host: argv in, results out. */
export interface Transport {
  /** "local" or "user@host:port", for messages. */
  readonly description: string;
  /**
   * How the host runs commands: "posix" (sh: Linux, macOS, BSD) or "windows" (PowerShell, every
   * command sent encoded). Decides which host scripts the layers above build.
   */
  readonly platform: Platform;
  /** Runs argv; resolves with its outcome whatever the exit code. Non-empty stderr is not failure. */
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, with stdout as raw bytes. */
  execBuffer(argv: string[], options?: ExecOptions): Promise<ExecResult & { stdoutBytes: Buffer }>;
  /**
   * Writes atomically: a temp name in the same directory, then rename. A `SizedStream` is sent as
   * it is read, in constant memory; `timeoutMs` bounds the whole write.
   */
  writeFile(path: string, data: string | Buffer | SizedStream, options?: WriteOptions): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** A byte stream to a Unix socket on the host (QMP). */
  connectUnix(path: string): Promise<Duplex>;
  /** A TCP connection made from the host itself (to a port QEMU forwards there, say). */
  connectTcp(host: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
}
