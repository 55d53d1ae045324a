/**
 * The QEMU guest agent of a VM (Vm `guestAgent`): its socket in the state directory, reached
 * over the host connection the way QMP is; commands, files, addresses and shutdown inside the
 * guest with no guest network. The agent serves one client at a time: this process's sessions
 * to one VM take turns (another process's wait in the socket's backlog).
 */
import { hostOps } from "../platform";
import { QemuError } from "../errors";
import { GuestAgentClient, GuestAgentError } from "../qemu/qga";
import type { VmHandle } from "./handle";

const turns = new Map<string, Promise<unknown>>();

/** Opens the VM's agent, runs `use`, and always closes the session. */
export async function withVmGuestAgent<T>(handle: VmHandle, timeoutMs: number, use: (agent: GuestAgentClient) => Promise<T>): Promise<T> {
  const { transport, layout, name } = handle;
  if (!hostOps(transport).unixSockets) {
    throw new QemuError("UNSUPPORTED", `${transport.description}: VM ${name}: the guest agent is not supported on ${hostOps(transport).name} hosts yet`);
  }
  const key = `${transport.description}\n${layout.qgaSocket}`;
  const run = async () => {
    let stream;
    try {
      stream = await transport.connectUnix(layout.qgaSocket);
    } catch (e) {
      throw new QemuError("NOT_FOUND", `${transport.description}: VM ${name} has no guest agent channel at ${layout.qgaSocket} (is it running, with guestAgent: true?): ${(e as Error).message}`);
    }
    const agent = await GuestAgentClient.open(stream, `${transport.description} VM ${name}`, timeoutMs);
    try {
      return await use(agent);
    } finally {
      agent.close();
    }
  };
  const before = turns.get(key) ?? Promise.resolve();
  const mine = before.then(run, run);
  const settled = mine.catch(() => undefined);
  turns.set(key, settled);
  settled.then(() => { if (turns.get(key) === settled) turns.delete(key); });
  return mine;
}

export interface GuestInterface {
  name: string;
  mac?: string;
  /** "ADDRESS/PREFIX", IPv4 and IPv6. */
  addresses: string[];
}

export interface GuestInfo {
  /** The guest's OS as its agent names it (os-release's PRETTY_NAME on Linux). */
  os?: string;
  /** Every interface but the loopback, with its addresses. */
  interfaces: GuestInterface[];
}

interface AgentInterface {
  name: string;
  "hardware-address"?: string;
  "ip-addresses"?: Array<{ "ip-address": string; prefix: number }>;
}

/** The agent's interfaces without the loopback, in the shape of Vm's `guestInterfaces`. Pure. */
export function guestInterfaces(reported: AgentInterface[]): GuestInterface[] {
  return reported.filter((i) => i.name !== "lo" && i["hardware-address"] !== "00:00:00:00:00:00").map((i) => ({
    name: i.name,
    ...(i["hardware-address"] ? { mac: i["hardware-address"] } : {}),
    addresses: (i["ip-addresses"] ?? []).map((a) => `${a["ip-address"]}/${a.prefix}`),
  }));
}

export async function guestInfo(agent: GuestAgentClient): Promise<GuestInfo> {
  const os = await agent.execute<{ "pretty-name"?: string; name?: string }>("guest-get-osinfo", undefined, 5000).catch(() => undefined);
  const interfaces = guestInterfaces(await agent.execute<AgentInterface[]>("guest-network-get-interfaces", undefined, 5000));
  return { os: os?.["pretty-name"] ?? os?.name, interfaces };
}

export interface GuestExec {
  /** The program and its arguments (no shell). */
  argv: string[];
  /** "NAME=VALUE" each. */
  env?: string[];
  stdin?: string;
  timeoutMs: number;
}

export interface GuestExecResult {
  exitCode: number;
  /** Set when the agent stopped the program by a signal (a timeout kills it). */
  signal?: number;
  stdout: string;
  stderr: string;
  /** The agent keeps at most 16 MiB of each. */
  truncated: boolean;
  timedOut: boolean;
}

interface ExecStatus {
  exited: boolean;
  exitcode?: number;
  signal?: number;
  "out-data"?: string;
  "err-data"?: string;
  "out-truncated"?: boolean;
  "err-truncated"?: boolean;
}

/** Runs a program in the guest and waits for it, for at most timeoutMs (then kills it there). */
export async function guestExec(agent: GuestAgentClient, run: GuestExec): Promise<GuestExecResult> {
  const [path, ...arg] = run.argv;
  const started = await agent.execute<{ pid: number }>("guest-exec", {
    path, arg, ...(run.env?.length ? { env: run.env } : {}),
    ...(run.stdin !== undefined ? { "input-data": Buffer.from(run.stdin).toString("base64") } : {}),
    "capture-output": true,
  }, 10000);
  const deadline = Date.now() + run.timeoutMs;
  let every = 20;
  for (;;) {
    const s = await agent.execute<ExecStatus>("guest-exec-status", { pid: started.pid }, 30000);
    if (s.exited) return execResult(s, false);
    if (Date.now() >= deadline) {
      await agent.execute("guest-exec", { path: "kill", arg: ["-KILL", String(started.pid)] }, 5000).catch(() => undefined);
      const after = await agent.execute<ExecStatus>("guest-exec-status", { pid: started.pid }, 5000).catch(() => undefined);
      return execResult(after ?? { exited: true, signal: 9 }, true);
    }
    await new Promise((r) => setTimeout(r, Math.min(every, Math.max(1, deadline - Date.now()))));
    // Short commands (most) are seen soon after they end; long ones are asked at most every 250 ms.
    every = Math.min(Math.round(every * 1.5), 250);
  }
}

function execResult(s: ExecStatus, timedOut: boolean): GuestExecResult {
  const text = (b64?: string) => (b64 ? Buffer.from(b64, "base64").toString("utf8") : "");
  return {
    exitCode: s.exitcode ?? (s.signal !== undefined ? 128 + s.signal : -1),
    ...(s.signal !== undefined ? { signal: s.signal } : {}),
    stdout: text(s["out-data"]), stderr: text(s["err-data"]),
    truncated: !!(s["out-truncated"] || s["err-truncated"]), timedOut,
  };
}

/**
 * Reads a file in the guest through the agent, a piece at a time (1 MiB); false when there is
 * none. Any other failure to open it is thrown.
 */
export async function readGuestFile(agent: GuestAgentClient, path: string, onChunk: (piece: Buffer) => void): Promise<boolean> {
  let handle: number;
  try {
    handle = await agent.execute<number>("guest-file-open", { path, mode: "r" }, 10000);
  } catch (e) {
    if (e instanceof GuestAgentError && /No such file/i.test(e.message)) return false;
    throw e;
  }
  try {
    for (;;) {
      const r = await agent.execute<{ count: number; "buf-b64": string; eof: boolean }>("guest-file-read", { handle, count: 2 ** 20 }, 30000);
      onChunk(Buffer.from(r["buf-b64"], "base64"));
      if (r.eof || r.count === 0) return true;
    }
  } finally {
    await agent.execute("guest-file-close", { handle }, 10000).catch(() => undefined);
  }
}

/** Asks the guest to power off; the agent answers only when it cannot. */
export async function guestShutdown(agent: GuestAgentClient): Promise<void> {
  await agent.execute("guest-shutdown", { mode: "powerdown" }, 2000, true);
}

/**
 * Freezes the guest's file systems, runs `during`, and always thaws them (a thaw that fails is
 * tried again on a new session: a guest left frozen cannot write).
 */
export async function withFrozenGuest<T>(handle: VmHandle, during: () => Promise<T>): Promise<T> {
  await withVmGuestAgent(handle, 5000, (agent) => agent.execute("guest-fsfreeze-freeze", undefined, 60000));
  try {
    return await during();
  } finally {
    let error: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      error = await withVmGuestAgent(handle, 5000, (agent) => agent.execute("guest-fsfreeze-thaw", undefined, 60000)).then(() => undefined, (e) => e);
      if (!error) break;
    }
    if (error) throw new QemuError("COMMAND_FAILED", `${handle.transport.description}: VM ${handle.name}: its file systems could not be thawed after the snapshot (run guest-fsfreeze-thaw through its agent): ${(error as Error).message}`);
  }
}
