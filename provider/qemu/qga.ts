/**
 * A client of the QEMU guest agent over any byte stream (the VM's agent socket reached through
 * the transport). The agent has no greeting and no ids: a session starts with
 * guest-sync-delimited, whose answer follows a 0xFF byte, so whatever an earlier client left in
 * the channel is dropped; then one command at a time, each answered by one line of JSON.
 */
import type { Duplex } from "stream";
import { randomInt } from "crypto";
import { QemuError } from "../errors";

export class GuestAgentError extends QemuError {
  constructor(readonly command: string, readonly errorClass: string, description: string) {
    super("COMMAND_FAILED", `guest agent ${command} failed: ${errorClass}: ${description}`);
  }
}

/** The longest answer line read (guest-exec-status carries up to 16 MiB of output, in base64). */
export const MAX_AGENT_LINE = 32 * 2 ** 20;

/**
 * Splits what arrived into answer lines. Before the sync's answer, everything up to the 0xFF
 * delimiter is dropped (the agent may first complain about the delimiter, or answer an earlier
 * client). Pure; table-tested.
 */
export function splitAgentReplies(buffer: Buffer, awaitingDelimiter: boolean): { lines: string[]; rest: Buffer; awaitingDelimiter: boolean } {
  let rest = buffer;
  if (awaitingDelimiter) {
    const at = rest.indexOf(0xff);
    if (at < 0) return { lines: [], rest: Buffer.alloc(0), awaitingDelimiter: true };
    rest = rest.subarray(at + 1);
  }
  const lines: string[] = [];
  let newline: number;
  while ((newline = rest.indexOf(0x0a)) >= 0) {
    const line = rest.subarray(0, newline).toString("utf8").trim();
    rest = rest.subarray(newline + 1);
    if (line) lines.push(line);
  }
  return { lines, rest, awaitingDelimiter: false };
}

interface Waiter {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

export class GuestAgentClient {
  private buffer: Buffer = Buffer.alloc(0);
  private awaitingDelimiter = true;
  private readonly lines: string[] = [];
  private waiter?: Waiter;
  private closedError?: Error;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly stream: Duplex, private readonly where: string) {
    stream.on("data", (d: Buffer) => this.onData(d));
    const closed = (e?: Error) => this.fail(new QemuError("TRANSPORT_CLOSED", `${where}: guest agent connection closed${e ? `: ${e.message}` : ""}`));
    stream.on("error", closed);
    stream.on("close", () => closed());
  }

  /** Connects and synchronizes within timeoutMs; a guest whose agent is not running never answers. */
  static async open(stream: Duplex, where: string, timeoutMs = 5000): Promise<GuestAgentClient> {
    const client = new GuestAgentClient(stream, where);
    try {
      const id = randomInt(1, 2 ** 31);
      stream.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ execute: "guest-sync-delimited", arguments: { id } }) + "\n")]));
      const answer = await client.nextAnswer("guest-sync-delimited", timeoutMs);
      if (answer !== id) throw new QemuError("COMMAND_FAILED", `${where}: the guest agent answered its sync with ${JSON.stringify(answer)}, not ${id}`);
      return client;
    } catch (e) {
      client.close();
      throw e;
    }
  }

  /** Runs one command (after the ones before it); `noAnswer`: guest-shutdown answers only when it fails. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10000, noAnswer = false): Promise<T> {
    const run = async () => {
      if (this.closedError) throw this.closedError;
      this.stream.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }) + "\n");
      if (noAnswer) {
        // Success is silence: an error arrives at once; the guest going away closes the channel.
        return this.nextAnswer(command, timeoutMs).catch((e: QemuError) => {
          if (e.code === "TIMEOUT" || e.code === "TRANSPORT_CLOSED") return undefined;
          throw e;
        }) as Promise<T>;
      }
      return this.nextAnswer(command, timeoutMs) as Promise<T>;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.stream.end();
    this.stream.destroy();
  }

  private async nextAnswer(command: string, timeoutMs: number): Promise<unknown> {
    const line = await new Promise<string>((resolve, reject) => {
      const queued = this.lines.shift();
      if (queued !== undefined) return resolve(queued);
      if (this.closedError) return reject(this.closedError);
      const timer = setTimeout(() => {
        // A late answer would be read as the next command's: the session ends here.
        const e = new QemuError("TIMEOUT", `${this.where}: guest agent ${command} got no answer within ${timeoutMs} ms`);
        this.waiter = undefined;
        this.fail(e);
        reject(e);
      }, timeoutMs);
      this.waiter = {
        resolve: (l) => { clearTimeout(timer); resolve(l); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
    let message: { return?: unknown; error?: { class: string; desc: string } };
    try {
      message = JSON.parse(line);
    } catch {
      throw new QemuError("COMMAND_FAILED", `${this.where}: guest agent ${command}: an answer that is not JSON: ${line.slice(0, 200)}`);
    }
    if (message.error) throw new GuestAgentError(command, message.error.class, message.error.desc);
    return message.return;
  }

  private onData(chunk: Buffer): void {
    if (this.closedError) return;
    const split = splitAgentReplies(Buffer.concat([this.buffer, chunk]), this.awaitingDelimiter);
    this.buffer = split.rest;
    this.awaitingDelimiter = split.awaitingDelimiter;
    for (const line of split.lines) {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w.resolve(line);
      else this.lines.push(line);
    }
    if (this.buffer.length > MAX_AGENT_LINE) {
      this.fail(new QemuError("COMMAND_FAILED", `${this.where}: the guest agent sent a line of more than ${MAX_AGENT_LINE} bytes; connection closed`));
      this.close();
    }
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
}
