/**
 * Reads of VMs on one host that arrive together share one shell command: the engine sends a
 * refresh's reads at once, so 50 VMs on 3 hosts cost a few round trips, not 50. The first read
 * waits one event-loop turn for company; reads that arrive while a command runs go in the next.
 */
import { QemuError, expectSuccess } from "../errors";
import { parseKeyValues } from "../keyValues";
import type { Transport } from "../transport";
import type { ObserveTarget } from "../platform";
import { hostOps } from "../platform";

/** Keeps one command's argument list far below any sshd or kernel limit. */
const MAX_PER_COMMAND = 64;

interface Pending { target: ObserveTarget; resolve: (values: Map<string, string>) => void; reject: (e: unknown) => void }
interface Queue { waiting: Pending[]; busy: boolean }

const queues = new WeakMap<Transport, Queue>();

/** The observe script's key=value lines for one VM, read together with the others waiting for this host. */
export function observeValues(transport: Transport, target: ObserveTarget): Promise<Map<string, string>> {
  let queue = queues.get(transport);
  if (!queue) queues.set(transport, (queue = { waiting: [], busy: false }));
  const q = queue;
  return new Promise((resolve, reject) => {
    q.waiting.push({ target, resolve, reject });
    if (!q.busy) {
      q.busy = true;
      setImmediate(() => void drain(transport, q));
    }
  });
}

async function drain(transport: Transport, queue: Queue): Promise<void> {
  while (queue.waiting.length) {
    const batch = queue.waiting.splice(0, MAX_PER_COMMAND);
    try {
      const blocks = await observeBlocks(transport, batch.map((p) => p.target));
      batch.forEach((p, i) => p.resolve(blocks[i]));
    } catch (e) {
      batch.forEach((p) => p.reject(e));
    }
  }
  queue.busy = false;
}

async function observeBlocks(transport: Transport, targets: ObserveTarget[]): Promise<Array<Map<string, string>>> {
  const argv = hostOps(transport).vm.observe(targets);
  const names = targets.map((t) => t.name).join(", ");
  const r = expectSuccess(`${transport.description}: observing VM ${names}`, argv, await transport.exec(argv), ["sh", "-c", "<observe>", ...targets.map((t) => t.name)]);
  return splitBlocks(r.stdout, targets.length);
}

/** The output cut at its `vm=<index>` lines; a VM the script did not reach is an error, not "stopped". */
export function splitBlocks(stdout: string, count: number): Array<Map<string, string>> {
  const blocks: string[][] = [];
  for (const line of stdout.split("\n")) {
    const index = /^vm=(\d+)\r?$/.exec(line);
    if (index) blocks[Number(index[1])] = [];
    else if (blocks.length) blocks[blocks.length - 1].push(line);
  }
  if (blocks.length !== count || blocks.some((b) => !b)) {
    throw new QemuError("COMMAND_FAILED", `the observe script reported ${blocks.length} of ${count} VMs: ${stdout.slice(0, 200)}`);
  }
  return blocks.map((lines) => parseKeyValues(lines.join("\n")));
}
