/**
 * FleetPlacement: where a Fleet's members run, recorded in the stack's state so that a member
 * stays on its host. The plan is made in `check` from the seats the last run recorded (the old
 * inputs), so `pulumi preview` shows it and names every move; nothing here touches a host.
 */
import { checkPins, planPlacement, planSlots, PLACEMENTS, type FleetHostCapacity, type MemberNeeds, type Move, type Placement, type Seat } from "../fleet/placement";
import { InvalidArgumentError } from "../errors";
import { booleanInput, oneOf } from "../validate";
import { progress } from "../progress";
import { collectFailures, containsUnknown, plain, recordedProviderChanged, UNKNOWN, type CheckResult, type CreateResult, type DiffResult, type ReadResult } from "./types";

export interface FleetPlacementInputs {
  /** The Fleet's name, for messages. */
  fleet: string;
  names: string[];
  /** The hosts' keys, in order: known while a host's figures may not be. */
  hostKeys: string[];
  hosts: FleetHostCapacity[];
  needs: MemberNeeds;
  placement: Placement;
  /** Member -> host key: moves a member on purpose. */
  pin?: Record<string, string>;
  /** Place every member again (its slot stays). */
  rebalance?: boolean;
  /** Computed by check: each member's host and slot. */
  seats?: Record<string, Seat>;
  /** Computed by check: each member's slot (known in a preview even while hosts' figures are not). */
  slots?: Record<string, number>;
  /** Computed by check: the members this change moves, and why. */
  moves?: Move[];
  /** Computed by check: `host:<member>`, each member's host key (see memberHosts). */
  [memberHost: `host:${string}`]: string | undefined;
}

export type FleetPlacementOutputs = FleetPlacementInputs;

const known = (v: unknown) => v !== undefined && !containsUnknown(v);

/** The seats recorded by the last run, when there is such a record. */
function recorded(olds: Partial<FleetPlacementInputs> | undefined): Record<string, Seat> {
  const seats = olds?.seats;
  return seats && typeof seats === "object" && known(seats) ? seats : {};
}

export async function check(olds: Partial<FleetPlacementInputs> | undefined, news: FleetPlacementInputs): Promise<CheckResult<FleetPlacementInputs>> {
  const failures = collectFailures([
    [[news.placement], () => void oneOf(news.placement, "placement", PLACEMENTS)],
    [[news.rebalance], () => void booleanInput(news.rebalance, "rebalance")],
    [[news.pin, news.names, news.hostKeys], () => checkPins(news.pin, news.names, news.hostKeys)],
  ]).map((f) => ({ ...f, reason: `Fleet ${news.fleet}: ${f.reason}` }));
  if (failures.length || !known(news.names)) return failures.length ? { failures } : { inputs: news };
  const previous = recorded(olds);
  const slots = planSlots(news.names, previous);
  const keys = Array.isArray(news.hostKeys) ? news.hostKeys : [];
  const figuresKnown = known(news.hosts) && known(news.needs) && !containsUnknown(news.pin) && !containsUnknown(news.rebalance);
  if (!figuresKnown) {
    // Hosts' figures are not known yet (a preview while a Host is made or changed): the members
    // already seated keep their seats; only a new member's host waits for the figures.
    const pin = news.pin ?? {};
    const waitsForAll = containsUnknown(pin) || news.rebalance === true || containsUnknown(news.rebalance);
    const hostOf = (m: string) => waitsForAll
      ? UNKNOWN : pin[m] ?? (previous[m] && keys.includes(previous[m].host) ? previous[m].host : UNKNOWN);
    const seats = Object.fromEntries(news.names.map((m) => [m, { host: hostOf(m), slot: slots[m] }]));
    return { inputs: { ...news, slots, seats, ...memberHosts(seats), moves: [] } };
  }
  try {
    // New needs (or a new fleet) are checked against every member; new host figures only against new members.
    const checkAll = JSON.stringify(olds?.needs) !== JSON.stringify(news.needs);
    const plan = planPlacement({ names: news.names, hosts: news.hosts, needs: news.needs, placement: news.placement, previous, pins: news.pin, rebalance: news.rebalance, checkAll });
    return { inputs: plain({ ...news, slots, seats: plan.seats, ...memberHosts(plan.seats), moves: plan.moves }) };
  } catch (e) {
    if (!(e instanceof InvalidArgumentError)) throw e;
    return { failures: [{ property: e.property, reason: `Fleet ${news.fleet}: ${e.reason}` }] };
  }
}

/**
 * One property per member with its host key: a preview that cannot place a new member yet leaves
 * only that member's host unknown (an Output is unknown as a whole when anything in it is).
 */
export function memberHosts(seats: Record<string, Seat>): Record<string, string> {
  return Object.fromEntries(Object.entries(seats).map(([m, seat]) => [memberHostKey(m), seat.host]));
}

export const memberHostKey = (member: string) => `host:${member}`;

/** What a move does, in words: the member's disk is made anew on its new host. */
export function moveLine(fleet: string, m: Move): string {
  return `Fleet ${fleet}: member ${m.member} moves from ${m.from} to ${m.to} (${m.why}): its disk ${m.member}-disk is replaced there, and what the member kept on it is lost`;
}

export async function diff(_id: string, olds: FleetPlacementOutputs, news: FleetPlacementInputs): Promise<DiffResult> {
  const changed = ["names", "seats", "slots", "pin", "rebalance", "placement"]
    .filter((k) => JSON.stringify((olds as unknown as Record<string, unknown>)[k]) !== JSON.stringify((news as unknown as Record<string, unknown>)[k]));
  for (const m of Array.isArray(news.moves) ? news.moves : []) progress(moveLine(news.fleet, m));
  return { changes: changed.length > 0 || recordedProviderChanged(olds, news), replaces: [] };
}

export async function create(inputs: FleetPlacementInputs): Promise<CreateResult<FleetPlacementOutputs>> {
  return { id: `placement-${inputs.fleet}`, outs: plain(inputs) };
}

export async function read(id: string, props: FleetPlacementOutputs): Promise<ReadResult<FleetPlacementOutputs>> {
  return { id, props };
}

export async function update(_id: string, _olds: FleetPlacementOutputs, news: FleetPlacementInputs): Promise<{ outs: FleetPlacementOutputs }> {
  return { outs: plain(news) };
}

export async function remove(): Promise<void> {
  // Only a record in the stack's state: nothing on a host.
}
