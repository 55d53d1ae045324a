/**
 * Memory across stacks: before a VM starts, its memory is reserved in the host's ledger (the
 * one ports.ts uses), under its lock, unless the VMs of every stack of the SSH user that run
 * there and this one would together pass the host's memory (capacity-reserve.sh). A refusal
 * names the host, the figures and who holds the memory; nothing is started.
 */
import { hostOps } from "../platform";
import { createHash } from "crypto";
import { InvalidArgumentError, expectSuccess } from "../errors";
import { parseKeyValueLines } from "../keyValues";
import { EXIT, type Transport } from "../transport";
import { shScriptArgv } from "../transport/hostScript";
import type { VmLayout } from "../layout";
import { LEDGER_DIR } from "./ports";

/** How much of the host's memory the VMs may take together, in percent, when its Host sets no `memoryOvercommit`. */
export const MEMORY_LIMIT_PERCENT = 100;

/** The limit in percent from a Host's `memoryOvercommit` ratio. */
export function memoryLimitPercent(ratio: number | undefined): number {
  return ratio === undefined ? MEMORY_LIMIT_PERCENT : Math.round(ratio * 100);
}

/** A VM's entry in the ledger: named by its state directory. */
export function capacityId(layout: VmLayout): string {
  return createHash("sha256").update(layout.dir).digest("hex").slice(0, 24);
}

export function reserveArgv(layout: VmLayout, memoryBytes: number, cpus: number, who: string, ledger = "", percent = MEMORY_LIMIT_PERCENT): string[] {
  return shScriptArgv(["vm-lib.sh", "capacity-reserve.sh"], [ledger, capacityId(layout), layout.dir, String(memoryBytes), String(cpus), String(percent), who]);
}

const GiB = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** Reserves the VM's memory and vCPUs on the host, or refuses naming `memory`, the figures and the holders. */
export async function reserveCapacity(t: Transport, layout: VmLayout, vm: string, memoryBytes: number, cpus: number, who: string, percent = MEMORY_LIMIT_PERCENT, ledger = ""): Promise<void> {
  if (!hostOps(t).ledger) return; // no ledger on Windows hosts yet
  const argv = reserveArgv(layout, memoryBytes, cpus, who, ledger, percent);
  const r = await t.exec(argv);
  if (r.exitCode === EXIT.NO_CAPACITY) {
    const v = parseKeyValueLines(r.stdout);
    const [total, limit, used] = ["total", "limit", "used"].map((k) => Number(v.get(k)?.[0]));
    const holders = v.get("holder") ?? [];
    throw new InvalidArgumentError("memory", `${t.description}: VM ${vm} needs ${GiB(memoryBytes)}, but the host has ${GiB(total)} ` +
      `(VMs may take ${percent}% by the Host's memoryOvercommit: ${GiB(limit)}) and its running VMs already hold ${GiB(used)}` +
      `${holders.length ? `: ${holders.join("; ")}` : ""}; nothing was started`);
  }
  expectSuccess(`${t.description}: reserving memory for VM ${vm} in the ledger ${LEDGER_DIR}`, argv, r, ["sh", "-c", "<capacity-reserve>", layout.dir]);
}

/** Gives the reservation back (a start that failed); a VM that stopped loses it by itself. */
export async function releaseCapacity(t: Transport, layout: VmLayout, ledger = ""): Promise<void> {
  if (!hostOps(t).ledger) return;
  await t.exec(["sh", "-c", 'rm -f -- "${1:-$HOME/.pulumi-qemu/ledger}/vms/$2"', "capacity-release", ledger, capacityId(layout)]);
}
