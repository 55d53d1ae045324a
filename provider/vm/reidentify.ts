/**
 * A VM resumed from a WarmState is, until this runs, a copy of the saved guest: its hostname,
 * machine-id, SSH host keys, RNG state, clock and private NICs' MACs and addresses. The guest
 * agent runs guest-reidentify.sh in it before the VM counts as started.
 */
import { randomBytes } from "crypto";
import { QemuError } from "../errors";
import { hostScriptText } from "../transport/hostScript";
import { macFor, parseSubnet } from "../subnet";
import type { VmHandle } from "./handle";
import { guestExec, withVmGuestAgent } from "./guestAgent";
import type { VmSpec } from "./spec";

/** One private NIC to make the VM's own: the saved guest's MAC of it, the VM's MAC and address. */
export interface OwnNic {
  savedMac: string;
  mac: string;
  cidr: string;
}

/** The VM's private NICs, by position against the saved guest's MACs. Pure. */
export function ownNics(spec: Pick<VmSpec, "networks">, savedMacs: string[]): OwnNic[] {
  return spec.networks.flatMap((n, i) => {
    if (n.type !== "private") return [];
    const savedMac = savedMacs[i];
    if (!savedMac) throw new QemuError("INVALID_ARGUMENT", `networks[${i}]: the saved guest had ${savedMacs.length} NICs, fewer than this VM`);
    return [{ savedMac, mac: macFor(n.address), cidr: `${n.address}/${parseSubnet(n.subnet, "subnet").prefix}` }];
  });
}

/** The script's argv in the guest: its name, the host's time, and each NIC's three words. Pure. */
export function reidentifyArgv(name: string, nowSeconds: number, nics: OwnNic[]): string[] {
  return ["/bin/sh", "-c", hostScriptText("guest-reidentify.sh"), "reidentify", name, String(nowSeconds),
    ...nics.flatMap((n) => [n.savedMac, n.mac, n.cidr])];
}

/** Makes the resumed guest itself; its failure (with what the script said) fails the start. */
export async function reidentify(handle: VmHandle, spec: VmSpec, savedMacs: string[], timeoutMs = 60000): Promise<string> {
  const nics = ownNics(spec, savedMacs);
  const argv = reidentifyArgv(spec.name, Math.round(Date.now() / 1000), nics);
  // The host's randomness on stdin, never on a command line.
  const r = await withVmGuestAgent(handle, timeoutMs, (agent) => guestExec(agent, { argv, stdin: `${randomBytes(64).toString("hex")}\n`, timeoutMs }));
  if (r.exitCode !== 0 || r.timedOut) {
    throw new QemuError("COMMAND_FAILED", `${handle.transport.description}: VM ${spec.name}: making the resumed guest its own ` +
      `${r.timedOut ? `took longer than ${timeoutMs} ms` : `failed (exit ${r.exitCode})`}: ${r.stderr.trim().slice(-600) || r.stdout.trim().slice(-600)}`);
  }
  return r.stdout.trim();
}
