/** Where a VM's QMP listens: its Unix socket on POSIX hosts, a loopback TCP port (recorded at start) on Windows. */
import { hostOps } from "../platform";
import type { VmHandle } from "./handle";
import { QemuError } from "../errors";
import { withQmp, withQmpStream, type QmpClient } from "../qemu/qmp";
import { qmpPortFile } from "../platform/windowsVmScripts";

export async function withVmQmp<T>(handle: VmHandle, timeoutMs: number, use: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const { transport, layout } = handle;
  if (hostOps(transport).unixSockets) return withQmp(transport, layout.qmpSocket, timeoutMs, use);
  const file = qmpPortFile(layout);
  const { address, port } = parseQmpEndpoint((await transport.readFile(file)).toString("utf8"));
  if (!port) throw new QemuError("COMMAND_FAILED", `${transport.description}: ${file} holds no loopback address and port`);
  return withQmpStream(() => transport.connectTcp(address, port), `${transport.description} QMP ${address}:${port}`, timeoutMs, use);
}

/** "127.a.b.c:port" as the start script records it; a bare port (a VM an older release started) is on 127.0.0.1. Port 0: unreadable. */
export function parseQmpEndpoint(text: string): { address: string; port: number } {
  const m = /^(?:(127\.\d{1,3}\.\d{1,3}\.\d{1,3}):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : 0;
  const address = m?.[1] ?? "127.0.0.1";
  const octetsOk = address.split(".").every((o) => Number(o) <= 255);
  return port >= 1 && port <= 65535 && octetsOk ? { address, port } : { address: "", port: 0 };
}
