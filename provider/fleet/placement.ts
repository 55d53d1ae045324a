/**
 * Where each member of a fleet runs and which host ports it forwards: pure, so `pulumi preview`
 * and the tests compute the same plan. Both depend only on a member's position and on what a
 * host has in total (not on what is free this minute), so a member never moves or changes port
 * when the fleet grows or shrinks at its end.
 */
import { InvalidArgumentError } from "../errors";
import { safeName } from "../validate";

export const PLACEMENTS = ["spread", "pack"] as const;
export type Placement = (typeof PLACEMENTS)[number];

export interface FleetHostCapacity {
  /** The fleet's key for the host (its name in `hosts`). */
  key: string;
  cores: number;
  memoryBytes: number;
  /** Accelerators the host's capability report calls usable; absent when unknown. */
  usableAccelerators?: string[];
}

export interface MemberNeeds {
  cpus: number;
  memoryBytes: number;
  /** The template's accelerator: "auto", a name, or an ordered fallback list. */
  accelerator?: string | string[];
}

/** Memory a host keeps for itself and QEMU's own overhead: VMs get at most this share of it. */
export const GUEST_MEMORY_SHARE = 0.9;

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Hosts that can run the template's accelerator (all of them for "auto" or an unknown report). */
function eligible(hosts: FleetHostCapacity[], needs: MemberNeeds): FleetHostCapacity[] {
  const wanted = needs.accelerator === undefined || needs.accelerator === "auto" ? undefined : [needs.accelerator].flat();
  if (!wanted) return hosts;
  return hosts.filter((h) => !h.usableAccelerators || wanted.some((a) => h.usableAccelerators!.includes(a)));
}

/** How many members of this size fit on the host by memory (vCPUs may be overcommitted). */
export function membersThatFit(host: FleetHostCapacity, needs: MemberNeeds): number {
  if (needs.cpus > host.cores) return 0;
  return Math.floor((host.memoryBytes * GUEST_MEMORY_SHARE) / needs.memoryBytes);
}

/**
 * The host key of every member, in member order. `spread`: round robin. `pack`: fill the first
 * host, then the next. Throws, with the numbers, when the members do not fit.
 */
export function placeMembers(memberCount: number, hosts: FleetHostCapacity[], needs: MemberNeeds, placement: Placement): string[] {
  if (hosts.length === 0) throw new InvalidArgumentError("hosts", "give at least one host");
  const usable = eligible(hosts, needs);
  if (usable.length === 0) {
    throw new InvalidArgumentError("template.accelerator", `no host can use ${JSON.stringify(needs.accelerator)}: ${hosts.map((h) => `${h.key} has ${(h.usableAccelerators ?? []).join(", ") || "none"}`).join("; ")}`);
  }
  const assigned = placement === "spread"
    ? Array.from({ length: memberCount }, (_, i) => usable[i % usable.length].key)
    : packed(memberCount, usable, needs);
  const perHost = new Map<string, number>();
  for (const key of assigned) perHost.set(key, (perHost.get(key) ?? 0) + 1);
  const over = usable.filter((h) => (perHost.get(h.key) ?? 0) > membersThatFit(h, needs));
  if (over.length) throw new InvalidArgumentError("template.memory", notEnough(memberCount, usable, needs, placement, perHost, over));
  return assigned;
}

function packed(memberCount: number, hosts: FleetHostCapacity[], needs: MemberNeeds): string[] {
  const assigned: string[] = [];
  for (const h of hosts) {
    for (let n = membersThatFit(h, needs); n > 0 && assigned.length < memberCount; n--) assigned.push(h.key);
  }
  // What does not fit anywhere goes to the last host, so that the check below reports it.
  while (assigned.length < memberCount) assigned.push(hosts[hosts.length - 1].key);
  return assigned;
}

function notEnough(count: number, hosts: FleetHostCapacity[], needs: MemberNeeds, placement: Placement, perHost: Map<string, number>, over: FleetHostCapacity[]): string {
  const each = `${needs.cpus} vCPU and ${gib(needs.memoryBytes)}`;
  const lines = over.map((h) => {
    const n = perHost.get(h.key) ?? 0;
    const why = needs.cpus > h.cores ? `it has ${h.cores} cores` : `it has ${gib(h.memoryBytes)} (${Math.round(GUEST_MEMORY_SHARE * 100)}% for guests: ${gib(h.memoryBytes * GUEST_MEMORY_SHARE)}), room for ${membersThatFit(h, needs)}`;
    return `${h.key} would get ${n} (${gib(n * needs.memoryBytes)}) but ${why}`;
  });
  const room = hosts.reduce((sum, h) => sum + membersThatFit(h, needs), 0);
  return `${count} members of ${each} do not fit (${placement}): ${lines.join("; ")}; all hosts together have room for ${room}`;
}

export interface PortRange { from: number; to: number }

/**
 * The host port of each forward of member `index`: consecutive blocks of `forwardsPerMember`
 * from the start of the range, so a member's ports depend only on its position.
 */
export function memberPorts(index: number, forwardsPerMember: number, range: PortRange): number[] {
  return Array.from({ length: forwardsPerMember }, (_, j) => range.from + index * forwardsPerMember + j);
}

/** Members a range holds. */
export function rangeCapacity(forwardsPerMember: number, range: PortRange): number {
  return forwardsPerMember === 0 ? Infinity : Math.floor((range.to - range.from + 1) / forwardsPerMember);
}

/** The members' names: `<fleet>-<i>` for a count, or the given names (each a safe, unique name). */
export function memberNames(fleetName: string, count: number | undefined, names: string[] | undefined): string[] {
  if ((count === undefined) === (names === undefined)) throw new InvalidArgumentError("count", "give exactly one of count and names");
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 0 || count > 1000) throw new InvalidArgumentError("count", `must be an integer from 0 to 1000, got ${JSON.stringify(count)}`);
    return Array.from({ length: count }, (_, i) => `${fleetName}-${i}`);
  }
  names!.forEach((n, i) => safeName(n, `names[${i}]`));
  const dup = names!.find((n, i) => names!.indexOf(n) !== i);
  if (dup !== undefined) throw new InvalidArgumentError("names", `${JSON.stringify(dup)} is given twice`);
  return [...names!];
}
