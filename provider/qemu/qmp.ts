/**
 * A QMP client over any byte stream (a Unix socket reached through the transport): greeting,
 * capabilities negotiation, then one command at a time, each bounded in time. Events are skipped.
 */
import type { Duplex } from "stream";
import { QemuError } from "../errors";
import type { Transport } from "../transport";

/** Opens QMP on the host's socket, runs `use`, and always closes the connection. */
export async function withQmp<T>(transport: Transport, socketPath: string, timeoutMs: number, use: (qmp: QmpClient) => Promise<T>): Promise<T> {
  return withQmpStream(() => transport.connectUnix(socketPath), `${transport.description} ${socketPath}`, timeoutMs, use);
}

/** The same over any stream to QMP (a TCP port on a Windows host, say). */
export async function withQmpStream<T>(open: () => Promise<Duplex>, where: string, timeoutMs: number, use: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const qmp = await QmpClient.open(await open(), where, timeoutMs);
  try {
    return await use(qmp);
  } finally {
    qmp.close();
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  command?: string;
}

export class QmpError extends QemuError {
  constructor(readonly command: string, readonly errorClass: string, description: string) {
    super("COMMAND_FAILED", `QMP ${command} failed: ${errorClass}: ${description}`);
  }
}

/** The longest QMP line read; beyond it the connection is dropped. */
export const MAX_QMP_LINE = 4 * 2 ** 20;

export class QmpClient {
  private buffer = "";
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private greeting?: Pending;
  private closedError?: Error;

  private constructor(private readonly stream: Duplex, private readonly where: string) {
    stream.on("data", (d: Buffer) => this.onData(d));
    const closed = (e?: Error) => this.failAll(new QemuError("TRANSPORT_CLOSED", `${where}: QMP connection closed${e ? `: ${e.message}` : ""}`));
    stream.on("error", closed);
    stream.on("close", () => closed());
  }

  /** Connects: waits for the greeting and negotiates capabilities, within timeoutMs. */
  static async open(stream: Duplex, where: string, timeoutMs = 5000): Promise<QmpClient> {
    const client = new QmpClient(stream, where);
    try {
      await new Promise((resolve, reject) => {
        client.greeting = { resolve, reject, timer: setTimeout(() => reject(new QemuError("TIMEOUT", `${where}: no QMP greeting within ${timeoutMs} ms`)), timeoutMs) };
      });
      await client.execute("qmp_capabilities", undefined, timeoutMs);
      return client;
    } catch (e) {
      client.close();
      throw e;
    }
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10000): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = `pq-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QemuError("TIMEOUT", `${this.where}: QMP ${command} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, command });
      this.stream.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + "\n");
    });
  }

  close(): void {
    this.stream.end();
    this.stream.destroy();
  }

  /**
   * True once QEMU's side of the connection has ended (it closes it when it exits; through SSH
   * that arrives as end of stream, before the channel closes), false if it is still open after
   * timeoutMs: a stop waits for this event instead of polling the process table.
   */
  ended(timeoutMs: number): Promise<boolean> {
    if (this.closedError || this.stream.readableEnded) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ended: boolean) => {
        clearTimeout(timer);
        this.stream.off("end", onEnd).off("close", onEnd);
        resolve(ended);
      };
      const onEnd = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.stream.on("end", onEnd).on("close", onEnd);
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closedError) return;
    this.buffer += chunk.toString("utf8");
    let newline: number;
    while ((newline = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line) this.onMessage(line);
    }
    // A QMP message is a line of JSON, a few KiB; an endless one is not QEMU talking.
    if (this.buffer.length > MAX_QMP_LINE) {
      this.buffer = "";
      this.failAll(new QemuError("COMMAND_FAILED", `${this.where}: QMP sent a line of more than ${MAX_QMP_LINE} characters; connection closed`));
      this.close();
    }
  }

  private onMessage(line: string): void {
    let message: { QMP?: unknown; id?: string; return?: unknown; error?: { class: string; desc: string }; event?: string };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.QMP !== undefined && this.greeting) {
      clearTimeout(this.greeting.timer);
      this.greeting.resolve(message.QMP);
      this.greeting = undefined;
      return;
    }
    const pending = message.id !== undefined ? this.pending.get(message.id) : undefined;
    if (!pending) return; // an event, or an answer that came after its timeout
    this.pending.delete(message.id!);
    clearTimeout(pending.timer);
    if (message.error) pending.reject(new QmpError(pending.command ?? "?", message.error.class, message.error.desc));
    else pending.resolve(message.return);
  }

  private failAll(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    if (this.greeting) {
      clearTimeout(this.greeting.timer);
      this.greeting.reject(e);
    }
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }
}
