/** Where a VM's QMP listens: its Unix socket on POSIX hosts, a loopback TCP port (recorded at start) on Windows. */
import { QemuError } from "../errors";
import { withQmp, withQmpStream, type QmpClient } from "../qemu/qmp";
import type { Transport } from "../transport";
import type { VmLayout } from "./layout";
import { qmpPortFile } from "./windowsScripts";

export async function withVmQmp<T>(transport: Transport, layout: VmLayout, timeoutMs: number, use: (qmp: QmpClient) => Promise<T>): Promise<T> {
  if (transport.platform !== "windows") return withQmp(transport, layout.qmpSocket, timeoutMs, use);
  const file = qmpPortFile(layout);
  const port = Number((await transport.readFile(file)).toString("utf8").trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new QemuError("COMMAND_FAILED", `${transport.description}: ${file} holds no port number`);
  return withQmpStream(() => transport.connectTcp("127.0.0.1", port), `${transport.description} QMP 127.0.0.1:${port}`, timeoutMs, use);
}
