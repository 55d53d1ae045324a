/**
 * Network: a private layer-2 segment for VMs, with nothing on the hosts but QEMU. On each host a
 * switch (a QEMU process with no guest, managed like a VM) takes its members through private Unix
 * datagram sockets; the switches of several hosts are linked by UDP in a star from the first host.
 * A dead switch is seen by a refresh and restarted by the next up, with every member's port.
 * On the hosts a network is `NAME.TAG` (per owner) and its link ports come from each host's
 * ledger, so two stacks of one program have two networks that never meet.
 */
import { createHash } from "crypto";
import { vmHandle } from "../vm/handle";
import { sameData } from "../canonical";
import { InvalidArgumentError } from "../errors";
import { checkUnixSocketPath, hubSocket, networksRoot, switchLayout, switchName } from "../layout";
import { newOwnerToken, ownedName, programName, ownedNameForChecks, ownedOrRefused, ownerRecordText, type OwnerLabel, type OwnerVerdict } from "../vm/owner";
import { takePorts } from "../vm/ports";
import { writePrivateFiles } from "../vm/execute";
import type { Observed } from "../vm/observe";
import { ipv4Number, notReachableReason, parseSubnet, subnetText } from "../subnet";
import { ensureSwitch, observeSwitch, removeSwitch } from "../network/switch";
import { starLinksOf, starPortCounts, starPortsFrom, type SwitchSpec } from "../network/switchArgv";
import { transportFor, validateConnection, type Connection } from "../transport";
import { integerIn, safeName } from "../validate";
import { listStartedSpecs } from "../vm/observe";
import { connectionIdentity } from "./connection";
import { hostOpsOf } from "../platform";
import { progress } from "../progress";
import { collectFailures, containsUnknown, plain, throwFailures, recordedProviderChanged, type CheckResult, type CreateResult, type DiffResult, type ReadResult, type Validation } from "./types";

export interface NetworkHostInput {
  host: Connection;
  hostId?: string;
  /** The address the network's other hosts reach this one at. Default: the SSH host, when it is an IPv4 address. */
  address?: string;
}

export interface NetworkInputs {
  name: string;
  /** IPv4, e.g. "10.77.0.0/24": the members' addresses come from it. */
  subnet: string;
  /** The hosts it spans; the first is the centre of the star of links. */
  hosts: NetworkHostInput[];
  /** The UDP port of the links: the first host uses port+1 ... port+n-1, every other host `port`. Default: each host's ports from its ledger (`linkPorts`). */
  port?: number;
  /** Makes each host's switch directory this resource's (an `owner` record, as a VM's); made by the provider at create, secret in state. */
  ownerToken?: string;
  /** Who the Network is for people, in its owner records: set by the SDK (project, stack, resource name). */
  owner?: OwnerLabel;
}

export interface SwitchStatus {
  host: string;
  status: string;
  pid?: number;
}

export interface NetworkOutputs extends NetworkInputs {
  /**
   * The name on the hosts (switch directories and processes, members' sockets), what a Vm joins:
   * `NAME.TAG` (TAG from the owner token), so two stacks' networks of one name never share a
   * switch; `NAME` for a network an older release made (absent from its recorded state).
   */
  hostName: string;
  /**
   * Without `port`: each host's UDP link ports (by host identity; see starPortCounts), taken
   * from that host's ledger and kept across updates. Absent from an older release's network,
   * which keeps its ports from the name.
   */
  linkPorts?: Record<string, number[]>;
  /** The switch on each host, in the order of `hosts`. */
  switches: SwitchStatus[];
  /** "running" when every switch runs. */
  status: string;
}

/** The ports of a network an older release made (no `linkPorts`), from its name. */
export function defaultPort(name: string): number {
  return 46000 + (createHash("sha256").update(name).digest().readUInt16BE(0) % 2000) * 8;
}

function hostAddressOf(h: NetworkHostInput): string | undefined {
  if (h.address !== undefined) return h.address;
  return h.host?.kind === "ssh" && ipv4Number(h.host.host) !== undefined ? h.host.host : undefined;
}

function validations(i: NetworkInputs): Validation[] {
  return [
    [[i.name], () => safeName(i.name, "name")],
    [[i.subnet], () => parseSubnet(i.subnet, "subnet")],
    [[i.port], () => i.port === undefined || integerIn(i.port, "port", 1024, 65535 - 64)],
    [[i.hosts], () => {
      if (!Array.isArray(i.hosts) || i.hosts.length === 0) throw new InvalidArgumentError("hosts", "must list at least one host (a Host's connection)");
      if (i.hosts.length > 64) throw new InvalidArgumentError("hosts", `a network spans at most 64 hosts, got ${i.hosts.length}`);
      const seen = new Map<string, number>();
      i.hosts.forEach((h, k) => {
        const c = validateConnection(h?.host, `hosts[${k}].host`);
        if (!hostOpsOf(c).unixSockets) throw new InvalidArgumentError(`hosts[${k}].host`, `is a ${hostOpsOf(c).name} host: QEMU there has no Unix datagram sockets, which a network's switch needs`);
        const id = connectionIdentity(c);
        if (seen.has(id)) throw new InvalidArgumentError(`hosts[${k}].host`, `is the same host and working directory as hosts[${seen.get(id)}]`);
        seen.set(id, k);
        // The longest socket path of its switch: a member's port with the longest address.
        checkUnixSocketPath(hubSocket(c.workDir, ownedNameForChecks(safeName(i.name, "name")), "255.255.255.255"), "the network's socket", "Linux", `hosts[${k}].host.workDir`, "network name");
        if (h.address !== undefined && ipv4Number(h.address) === undefined) throw new InvalidArgumentError(`hosts[${k}].address`, `must be an IPv4 address, got ${JSON.stringify(h.address)}`);
        const reached = hostAddressOf(h);
        const unreachable = reached === undefined || (h.address === undefined && i.hosts.length < 2) ? undefined : notReachableReason(ipv4Number(reached)!);
        if (unreachable) throw new InvalidArgumentError(`hosts[${k}].address`, `${reached} ${unreachable}: give the address the network's other hosts reach this one at`);
        if (i.hosts.length > 1 && reached === undefined) {
          throw new InvalidArgumentError(`hosts[${k}].address`, "is required: the address the network's other hosts reach this one at (the host is not reached by an IPv4 address)");
        }
      });
    }],
  ];
}

export async function check(_olds: unknown, news: NetworkInputs): Promise<CheckResult<NetworkInputs>> {
  const failures = collectFailures(validations(news));
  return failures.length ? { failures } : { inputs: news };
}

/** What the provider acts on: the inputs with the network's name on the hosts and its link ports. */
type Planned = NetworkInputs & Pick<NetworkOutputs, "hostName" | "linkPorts">;

/** The name on the hosts of a recorded network (an older release's has none: its name). */
function hostNameOf(o: Pick<NetworkOutputs, "name" | "hostName">): string {
  return o.hostName ?? o.name;
}

/** Each host's switch spec, in the order of `hosts`. */
function switchSpecs(p: Planned): SwitchSpec[] {
  const star = p.hosts.map((h) => ({ address: hostAddressOf(h) ?? "127.0.0.1" }));
  const ports = p.port !== undefined || p.linkPorts === undefined
    ? starPortsFrom(p.hosts.length, p.port ?? defaultPort(p.name))
    : p.hosts.map((h) => p.linkPorts![connectionIdentity(h.host)]);
  const subnet = subnetText(parseSubnet(p.subnet, "subnet"));
  return p.hosts.map((_, k) => ({ name: switchName(p.hostName), network: p.hostName, subnet, links: starLinksOf(star, k, ports) }));
}

/**
 * Each host's link ports: those it had (`kept`) as far as they go, the rest from its ledger, held
 * while the switch's directory exists (so claimSwitch comes first).
 */
async function linkPortsOf(p: Planned, kept: Record<string, number[]> = {}): Promise<Record<string, number[]>> {
  const counts = starPortCounts(p.hosts.length);
  const ports: Record<string, number[]> = {};
  for (const [k, h] of p.hosts.entries()) {
    const id = connectionIdentity(h.host);
    const have = (kept[id] ?? []).slice(0, counts[k]);
    const more = await takePorts(transportFor(h.host), switchLayout(h.host.workDir, p.hostName).dir, Array(counts[k] - have.length).fill("udp"));
    ports[id] = [...have, ...more];
  }
  return ports;
}

export async function diff(_id: string, olds: NetworkOutputs, news: NetworkInputs): Promise<DiffResult> {
  const replaces = (["name", "subnet"] as const).filter((k) => !sameData(olds[k], news[k]));
  const hostsChanged = containsUnknown(news.hosts) || !sameData(olds.hosts.map((h) => [h.host, h.address]), news.hosts.map((h) => [h.host, h.address]));
  const drift = olds.status !== "running";
  return { changes: replaces.length > 0 || hostsChanged || drift || !sameData(olds.port, news.port) || recordedProviderChanged(olds, news), replaces, deleteBeforeReplace: true };
}

/**
 * Another network on a host whose UDP ports this one would take (a `port` given by hand). Subnets
 * may overlap: each network is its own segment, and a VM on two is refused when they overlap.
 */
async function refuseCollisions(p: Planned, k: number, spec: SwitchSpec): Promise<void> {
  const h = p.hosts[k];
  const t = transportFor(h.host);
  for (const { spec: other } of await listStartedSpecs(t, networksRoot(h.host.workDir))) {
    const o = other as unknown as SwitchSpec;
    if (o.network === p.hostName) continue;
    const ports = new Set((o.links ?? []).map((l) => l.local.port));
    const taken = spec.links.find((l) => ports.has(l.local.port));
    if (taken) throw new InvalidArgumentError("port", `UDP port ${taken.local.port} on ${t.description} is network ${programName(o.network)}'s: give another port, or none (each host then gives free ones)`);
  }
}

/** Each host's switch as observed; one another owner's is refused (a refresh reports only its own). */
async function switchesOf(i: Planned): Promise<SwitchStatus[]> {
  return Promise.all(i.hosts.map(async (h) => {
    const seen = await observeSwitch(transportFor(h.host), h.host.workDir, i.hostName);
    switchOwned(i, h, seen);
    return { host: connectionIdentity(h.host), status: seen.state, ...(seen.pid ? { pid: seen.pid } : {}) };
  }));
}

function outputs(i: Planned, switches: SwitchStatus[]): NetworkOutputs {
  return plain({ ...i, subnet: subnetText(parseSubnet(i.subnet, "subnet")), switches, status: switches.every((s) => s.status === "running") ? "running" : "degraded" });
}

async function runSwitches(i: Planned): Promise<void> {
  const specs = switchSpecs(i);
  for (const [k, h] of i.hosts.entries()) {
    await refuseCollisions(i, k, specs[k]);
    if (await ensureSwitch(transportFor(h.host), h.host.workDir, specs[k])) progress(`Network ${i.name}: switch started on ${transportFor(h.host).description}`);
  }
}

export async function create(given: NetworkInputs): Promise<CreateResult<NetworkOutputs>> {
  throwFailures(collectFailures(validations(given)));
  const ownerToken = newOwnerToken();
  const planned: Planned = { ...given, ownerToken, hostName: ownedName(given.name, ownerToken) };
  // Another's switch directory of this name on any host (a TAG clash) is refused before anything is touched.
  await Promise.all(planned.hosts.map((h) => ownedSwitch(planned, h)));
  const claimed: NetworkHostInput[] = [];
  try {
    for (const h of planned.hosts) {
      await claimSwitch(planned, h);
      claimed.push(h);
    }
    if (planned.port === undefined) planned.linkPorts = await linkPortsOf(planned);
    await runSwitches(planned);
  } catch (e) {
    // Nothing is left behind, and only what this create claimed goes (no member can be on it yet); its ledger ports go with the directories.
    for (const h of claimed) await removeSwitch(transportFor(h.host), h.host.workDir, planned.hostName).catch(() => undefined);
    throw e;
  }
  return { id: `network:${planned.name}@${planned.hosts.map((h) => connectionIdentity(h.host)).join(",")}`, outs: outputs(planned, await switchesOf(planned)) };
}

export async function read(id: string, props: NetworkOutputs): Promise<ReadResult<NetworkOutputs>> {
  const recorded: Planned = { ...props, hostName: hostNameOf(props) };
  return { id, props: outputs(recorded, await switchesOf(recorded)) };
}

export async function update(_id: string, olds: NetworkOutputs, given: NetworkInputs): Promise<{ outs: NetworkOutputs }> {
  throwFailures(collectFailures(validations(given)));
  // Refused where another owns a switch; a network an older release made gets its token now (its
  // name on the hosts stays), and each host's switch directory without a record is claimed.
  const recorded: Planned = { ...olds, hostName: hostNameOf(olds) };
  const dropped = olds.hosts.filter((o) => !given.hosts.some((h) => connectionIdentity(h.host) === connectionIdentity(o.host)));
  await Promise.all(dropped.map((h) => ownedSwitch(recorded, h)));
  const verdicts = await Promise.all(given.hosts.map((h) => ownedSwitch(recorded, h)));
  const news: Planned = { ...given, ownerToken: olds.ownerToken ?? newOwnerToken(), hostName: recorded.hostName };
  for (const [k, h] of news.hosts.entries()) if (verdicts[k].kind === "unclaimed") await claimSwitch(news, h);
  const kept = new Set(news.hosts.map((h) => connectionIdentity(h.host)));
  for (const h of olds.hosts.filter((o) => !kept.has(connectionIdentity(o.host)))) {
    await removeSwitch(transportFor(h.host), h.host.workDir, recorded.hostName);
    progress(`Network ${olds.name}: switch removed from ${transportFor(h.host).description}`);
  }
  // An older release's network keeps its ports from the name; any other without `port` takes them from the ledgers.
  const oldScheme = olds.hostName === undefined && olds.linkPorts === undefined;
  if (news.port === undefined && !oldScheme) news.linkPorts = await linkPortsOf(news, olds.linkPorts);
  await runSwitches(news);
  return { outs: outputs(news, await switchesOf(news)) };
}

/** Stops every switch and removes its directory; refused on a host where a VM still runs on it, or where the switch is another owner's. */
export async function remove(_id: string, props: NetworkOutputs): Promise<void> {
  const recorded: Planned = { ...props, hostName: hostNameOf(props) };
  await Promise.all(props.hosts.map((h) => ownedSwitch(recorded, h)));
  for (const h of props.hosts) await removeSwitch(transportFor(h.host), h.host.workDir, recorded.hostName);
}

/** Whose this host's switch directory is; another owner's (or an unreadable record) is refused naming it. */
async function ownedSwitch(i: Pick<Planned, "name" | "hostName" | "ownerToken">, h: NetworkHostInput): Promise<OwnerVerdict> {
  return switchOwned(i, h, await observeSwitch(transportFor(h.host), h.host.workDir, i.hostName));
}

/** The verdict on a switch already observed (`seen`). */
function switchOwned(i: Pick<Planned, "name" | "hostName" | "ownerToken">, h: NetworkHostInput, seen: Observed): OwnerVerdict {
  return ownedOrRefused(seen.ownerRecord, i.ownerToken, `${transportFor(h.host).description}: network ${i.name}: its switch directory ${switchLayout(h.host.workDir, i.hostName).dir}`,
    "nothing of it was touched. Give this Network another name or working directory");
}

/** Writes the network's owner record in the host's switch directory. */
async function claimSwitch(i: Planned, h: NetworkHostInput): Promise<void> {
  const layout = switchLayout(h.host.workDir, i.hostName);
  await writePrivateFiles(vmHandle(transportFor(h.host), layout), [{ path: layout.owner, data: ownerRecordText(i.ownerToken!, i.owner ?? {}) }]);
}
