/**
 * Forwarded host ports chosen on the host instead of written in the program: a forward with no
 * `host` (or `host: "auto"`) gets a port from the host's ledger (provider/scripts/ports-take.sh),
 * which every stack of the SSH user shares, so the same program runs twice at once on one host.
 * The port is recorded in the state (`autoPorts`, by protocol and guest port) and kept across
 * updates and restarts; it goes back to the ledger when the VM's state directory is gone.
 */
import { hostOps } from "../platform";
import { InvalidArgumentError, expectSuccess } from "../errors";
import { parseKeyValueLines } from "../keyValues";
import type { Transport } from "../transport";
import { shScriptArgv } from "../transport/hostScript";
import type { NetworkSpec, PortForwardInput, VmInputs } from "./spec";

/** Where auto ports come from: below Linux's ephemeral range (32768-60999), where outgoing connections take theirs. */
export const AUTO_PORTS = { lo: 20000, hi: 29999 } as const;

/** The host's ledger, in the SSH user's home (the script expands it there): shared by every stack and working directory of that user. */
export const LEDGER_DIR = "$HOME/.pulumi-qemu/ledger";

export type AutoPorts = Record<string, number>;

export function isAutoPort(p: Pick<PortForwardInput, "host"> | undefined): boolean {
  return p !== undefined && (p.host === undefined || p.host === "auto");
}

/** Each forward of the inputs with the key its allocation is kept under: `tcp/22`, and `tcp/22#2` for a second forward of that guest port. */
function keyedForwards(inputs: Pick<VmInputs, "ports" | "networks">): Array<{ key: string; forward: PortForwardInput; protocol: string }> {
  const lists = inputs.networks !== undefined
    ? (Array.isArray(inputs.networks) ? inputs.networks : []).map((n) => (n?.type === "user" ? n.ports ?? [] : []))
    : [inputs.ports ?? []];
  const seen = new Map<string, number>();
  return lists.flatMap((list) => (Array.isArray(list) ? list : [])).map((forward) => {
    const protocol = forward?.protocol ?? "tcp";
    const base = `${protocol}/${forward?.guest}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return { key: n === 1 ? base : `${base}#${n}`, forward, protocol };
  });
}

/** The auto forwards that have no allocation yet, with their protocols. */
export function unallocated(inputs: Pick<VmInputs, "ports" | "networks">, allocated: AutoPorts = {}): Array<{ key: string; protocol: string }> {
  return keyedForwards(inputs).filter(({ key, forward }) => isAutoPort(forward) && allocated[key] === undefined).map(({ key, protocol }) => ({ key, protocol }));
}

/** The inputs with each auto forward's allocated port in place (one still unallocated stays auto). */
export function withAutoPorts<T extends Pick<VmInputs, "ports" | "networks">>(inputs: T, allocated: AutoPorts = {}): T {
  if (!keyedForwards(inputs).some(({ forward }) => isAutoPort(forward))) return inputs;
  const keys = keyedForwards(inputs).map((k) => k.key);
  let i = 0;
  const place = (p: PortForwardInput): PortForwardInput => {
    const key = keys[i++];
    return isAutoPort(p) && allocated[key] !== undefined ? { ...p, host: allocated[key] } : p;
  };
  if (inputs.networks !== undefined) {
    return { ...inputs, networks: inputs.networks.map((n): NetworkSpec => (n.type === "user" ? { ...n, ports: (n.ports ?? []).map(place) } : n)) };
  }
  return { ...inputs, ports: (inputs.ports ?? []).map(place) };
}

/** The allocations of the ones still missing, taken from the host's ledger for `holder` (the VM's state directory). */
export async function allocateAutoPorts(transport: Transport, inputs: Pick<VmInputs, "ports" | "networks">, allocated: AutoPorts, holder: string): Promise<AutoPorts> {
  const missing = unallocated(inputs, allocated);
  if (!missing.length) return allocated;
  if (!hostOps(transport).ledger) {
    throw new InvalidArgumentError("ports", `${transport.description}: a forward without a host port (or host: "auto") is not supported on ${hostOps(transport).name} hosts yet: give each one a number`);
  }
  const ports = await takePorts(transport, holder, missing.map((m) => m.protocol));
  return { ...allocated, ...Object.fromEntries(missing.map((m, i) => [m.key, ports[i]])) };
}

/** One port per protocol from the host's ledger, held for `holder` (a state directory) until it is gone. */
export async function takePorts(transport: Transport, holder: string, protocols: string[]): Promise<number[]> {
  if (!protocols.length) return [];
  const argv = portsTakeArgv(holder, protocols);
  const r = expectSuccess(`${transport.description}: allocating ports from the ledger ${LEDGER_DIR}`, argv, await transport.exec(argv), ["sh", "-c", "<ports-take>", holder]);
  const ports = (parseKeyValueLines(r.stdout).get("port") ?? []).map(Number);
  if (ports.length !== protocols.length) throw new Error(`the ledger gave ${ports.length} ports for ${protocols.length} asked`);
  return ports;
}

/** `ledger` empty: the script's default, in the SSH user's home. */
export function portsTakeArgv(holder: string, protocols: string[], ledger = "", range: { lo: number; hi: number } = AUTO_PORTS): string[] {
  return shScriptArgv(["vm-lib.sh", "ports-take.sh"], [ledger, holder, String(range.lo), String(range.hi), ...protocols]);
}
