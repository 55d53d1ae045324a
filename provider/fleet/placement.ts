/**
 * Where each member of a fleet runs and which slot (default address, range ports) it has: pure,
 * so `pulumi preview` and the tests compute the same plan. A member's seat is recorded (the
 * Fleet's FleetPlacement resource) and kept: it never moves or changes slot because another
 * member came or went or a host reports other figures.
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

/** Where a member runs: its host's key, and its slot (which picks its default address and range ports). */
export interface Seat { host: string; slot: number }

/** Why a member that had a host gets another one. */
export interface Move { member: string; from: string; to: string; why: string }

export interface PlacementRequest {
  names: string[];
  hosts: FleetHostCapacity[];
  needs: MemberNeeds;
  placement: Placement;
  /** The seats recorded by the last run; a member found here keeps its host and slot. */
  previous?: Record<string, Seat>;
  /** Member name -> host key: the user moves a member on purpose. */
  pins?: Record<string, string>;
  /** Place every member again from scratch (slots stay). */
  rebalance?: boolean;
  /**
   * Check that every member fits, the seated ones too (a new fleet, or new needs: a template
   * that no longer fits is refused before anything restarts). Otherwise only new members need
   * room, so a host reporting less memory neither moves nor refuses the members it has.
   */
  checkAll?: boolean;
}

/**
 * Each member's seat. A member recorded before keeps its host and slot: nothing a host reports
 * (memory, cores) and no other member's arrival or departure moves it. Only a pin, `rebalance`,
 * or its host leaving `hosts` does, and each such move is listed with its reason. New members
 * take the lowest free slots and are placed on hosts with room: `spread` on the eligible host
 * with the fewest members (round robin for a new fleet), `pack` on the first with room. Throws,
 * with the numbers, when a new member fits nowhere.
 */
export function planPlacement(req: PlacementRequest): { seats: Record<string, Seat>; moves: Move[] } {
  const { names, hosts, needs, placement } = req;
  if (hosts.length === 0) throw new InvalidArgumentError("hosts", "give at least one host");
  const usable = eligible(hosts, needs);
  if (usable.length === 0) {
    throw new InvalidArgumentError("template.accelerator", `no host can use ${JSON.stringify(needs.accelerator)}: ${hosts.map((h) => `${h.key} has ${(h.usableAccelerators ?? []).join(", ") || "none"}`).join("; ")}`);
  }
  const keys = new Set(hosts.map((h) => h.key));
  const previous = req.previous ?? {};
  const pins = req.pins ?? {};
  checkPins(pins, names, [...keys]);
  for (const [member, key] of Object.entries(pins)) {
    if (!usable.some((h) => h.key === key)) throw new InvalidArgumentError(`pin.${member}`, `host ${key} cannot use ${JSON.stringify(needs.accelerator)}`);
  }
  const slots = planSlots(names, previous);
  const host = new Map<string, string>();
  for (const member of names) {
    const was = previous[member]?.host;
    if (pins[member] !== undefined) host.set(member, pins[member]);
    else if (was !== undefined && keys.has(was) && !req.rebalance) {
      if (!usable.some((h) => h.key === was)) {
        throw new InvalidArgumentError("template.accelerator", `member ${member} runs on ${was}, which cannot use ${JSON.stringify(needs.accelerator)} (usable there: ${hosts.find((h) => h.key === was)!.usableAccelerators?.join(", ") || "none"}); pin it to a host that can (its disk is made anew there) or keep the accelerator`);
      }
      host.set(member, was);
    }
  }
  const count = new Map<string, number>();
  for (const key of host.values()) count.set(key, (count.get(key) ?? 0) + 1);
  const fresh = names.filter((m) => !host.has(m));
  for (const member of fresh) {
    const room = usable.filter((h) => (count.get(h.key) ?? 0) < membersThatFit(h, needs));
    const chosen = placement === "pack" ? room[0] : room.reduce<FleetHostCapacity | undefined>((best, h) => (!best || (count.get(h.key) ?? 0) < (count.get(best.key) ?? 0) ? h : best), undefined);
    if (!chosen) throw new InvalidArgumentError("template.memory", notEnough(names.length, fresh.length, usable, needs, placement, count));
    host.set(member, chosen.key);
    count.set(chosen.key, (count.get(chosen.key) ?? 0) + 1);
  }
  if (req.checkAll && usable.some((h) => (count.get(h.key) ?? 0) > membersThatFit(h, needs))) {
    throw new InvalidArgumentError("template.memory", notEnough(names.length, fresh.length, usable, needs, placement, count));
  }
  const seats = Object.fromEntries(names.map((m) => [m, { host: host.get(m)!, slot: slots[m] }]));
  const moves = names.filter((m) => previous[m] !== undefined && previous[m].host !== seats[m].host).map((m): Move => {
    const from = previous[m].host;
    const why = pins[m] !== undefined ? `pinned to ${pins[m]}` : !keys.has(from) ? `its host ${from} is no longer in hosts` : "rebalance";
    return { member: m, from, to: seats[m].host, why };
  });
  return { seats, moves };
}

/** `pin` (member name -> host key) names members and hosts of the fleet. */
export function checkPins(pins: unknown, names: string[], keys: string[]): void {
  if (pins === undefined) return;
  if (typeof pins !== "object" || pins === null || Array.isArray(pins)) throw new InvalidArgumentError("pin", "must map member names to host keys");
  for (const [member, key] of Object.entries(pins)) {
    if (!names.includes(member)) throw new InvalidArgumentError(`pin.${member}`, `there is no member ${JSON.stringify(member)}`);
    if (!keys.includes(key)) throw new InvalidArgumentError(`pin.${member}`, `there is no host ${JSON.stringify(key)} in hosts`);
  }
}

/** Recorded members keep their slot; new ones take the lowest free slots, in member order. */
export function planSlots(names: string[], previous: Record<string, Seat>): Record<string, number> {
  const slots: Record<string, number> = {};
  const taken = new Set<number>();
  for (const m of names) {
    const s = previous[m]?.slot;
    if (Number.isInteger(s) && s >= 0 && !taken.has(s)) {
      slots[m] = s;
      taken.add(s);
    }
  }
  let next = 0;
  for (const m of names) {
    if (slots[m] !== undefined) continue;
    while (taken.has(next)) next++;
    slots[m] = next;
    taken.add(next);
  }
  return slots;
}

/** The host key of every member of a new fleet, in member order (no seats recorded yet). */
export function placeMembers(memberCount: number, hosts: FleetHostCapacity[], needs: MemberNeeds, placement: Placement): string[] {
  const names = Array.from({ length: memberCount }, (_, i) => `m${i}`);
  const { seats } = planPlacement({ names, hosts, needs, placement, checkAll: true });
  return names.map((n) => seats[n].host);
}

function notEnough(count: number, fresh: number, hosts: FleetHostCapacity[], needs: MemberNeeds, placement: Placement, perHost: Map<string, number>): string {
  const each = `${needs.cpus} vCPU and ${gib(needs.memoryBytes)}`;
  const lines = hosts.map((h) => {
    const why = needs.cpus > h.cores ? `it has ${h.cores} cores` : `it has ${gib(h.memoryBytes)} (${Math.round(GUEST_MEMORY_SHARE * 100)}% for guests: ${gib(h.memoryBytes * GUEST_MEMORY_SHARE)})`;
    return `${h.key} has ${perHost.get(h.key) ?? 0}, room for ${membersThatFit(h, needs)}: ${why}`;
  });
  const room = hosts.reduce((sum, h) => sum + membersThatFit(h, needs), 0);
  const newOnes = fresh === count ? "" : ` (${fresh} of them new)`;
  return `${count} members${newOnes} of ${each} do not fit (${placement}): ${lines.join("; ")}; all hosts together have room for ${room}`;
}

export interface PortRange { from: number; to: number }

/**
 * The host port of each forward of the member in `slot`: consecutive blocks of
 * `forwardsPerMember` from the start of the range, so a member's ports depend only on its slot.
 */
export function memberPorts(slot: number, forwardsPerMember: number, range: PortRange): number[] {
  return Array.from({ length: forwardsPerMember }, (_, j) => range.from + slot * forwardsPerMember + j);
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
