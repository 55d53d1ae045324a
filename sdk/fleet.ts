import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { CloudInitInputs } from "../provider/cloudInit/seed";
import { memberNetworkConfig } from "../provider/fleet/networkConfig";
import { ansibleInventory, sshConfig, sshConfigPath, sshConfigWord, type FleetMember } from "../provider/fleet/inventory";
import {
  checkPins, memberNames, memberPorts, PLACEMENTS, rangeCapacity,
  type FleetHostCapacity, type Placement, type PortRange,
} from "../provider/fleet/placement";
import { InvalidArgumentError } from "../provider/errors";
import { sharedImagePath } from "../provider/layout";
import { hostAddress, nthAddress, parseSubnet } from "../provider/subnet";
import { localFileHead, localFileSha256 } from "../provider/localFile";
import { HEADER_BYTES, isQcow, referencesReason } from "../provider/qemu/imageHeader";
import { booleanInput, integerIn, oneOf, safeName, sizeBytes, snapshotTag } from "../provider/validate";
import type { GuestConnection } from "../provider/resources/vm";
import type { ReadinessSpec, StopTimeouts } from "../provider/vm/spec";
import { Disk } from "./disk";
import { Image, type ImageArgs } from "./image";
import { declaredDigest, imageUrl } from "../provider/images/source";
import { FleetPlacement } from "./fleetPlacement";
import type { Host } from "./host";
import { HostCapabilities } from "./hostCapabilities";
import { Network } from "./network";
import { Snapshot } from "./snapshot";
import { Vm } from "./vm";
import { WarmState } from "./warmState";

export type { FleetMember, Placement, PortRange };

/** What every member is made of. Plain values: the members are declared from them. */
export interface FleetTemplate {
  /**
   * The image each member's disk is a linked clone of: a file on the machine running Pulumi
   * (uploaded once per host, shared, checksum-verified), or a published image `{ url, sha256 }`
   * that each host fetches once into its cache (an Image per host; see Image's arguments).
   */
  baseImage: string | FleetImageSource;
  /** Size of each member's linked clone. Default: the base image's. */
  diskSize?: string | number;
  /** Default 1. */
  cpus?: number;
  /** Default "512M". */
  memory?: string | number;
  /** Default "auto": each host's capability report picks. A name or list also limits placement to hosts that can use it. */
  accelerator?: string | string[];
  machine?: string;
  /** Direct kernel boot: paths on every host. */
  kernel?: string;
  initrd?: string;
  append?: string;
  extraArgs?: string[];
  /**
   * Guest ports to forward; each member gets its own host ports. Default: the guest's SSH port.
   * `[]` on a fleet `network`: the members have only their private NIC (reach them with GuestCommand).
   */
  ports?: Array<{ guest: number; protocol?: "tcp" | "udp" }>;
  /** "running" (default), "stopped", or "any" (created running, then the power state is the tests'). */
  state?: "running" | "stopped" | "any";
  readiness?: ReadinessSpec;
  stopTimeouts?: StopTimeouts;
  /**
   * Each member's cloud-init seed, as a Vm's (its name the hostname). On a fleet `network`, a
   * seed without `networkConfig` gets one giving the member its private address. With
   * `warmStart` it runs once per host, in the saved guest; each member's seed then carries the
   * saved guest's instance-id.
   */
  cloudInit?: pulumi.Input<CloudInitInputs>;
  /** Default root. */
  guestUser?: string;
  /** The guest's sshd port. Default 22. */
  guestSshPort?: number;
  /** Private key that logs in to the guests (secret), for each member's guestConnection. */
  guestPrivateKey?: pulumi.Input<string>;
  /** Each member gets the QEMU guest agent's channel (Vm `guestAgent`). */
  guestAgent?: boolean;
}

/** A published image for a Fleet's members: what an Image takes, without its host. */
export type FleetImageSource = Omit<ImageArgs, "host" | "sha256" | "sha512" | "url"> & { url: string; sha256?: string; sha512?: string };

export interface FleetArgs {
  /** The hosts, by a stable key (the key names the host in inventories). Order matters for placement. */
  hosts: Record<string, Host>;
  /** Their capability reports, by the same keys. Default: the fleet makes one per host. */
  capabilities?: Record<string, HostCapabilities>;
  /** Members `<fleet>-0` ... `<fleet>-<count-1>`; or give `names`. Members are added and removed at the end. */
  count?: number;
  /** Member names, instead of `count`. A member keeps its host, ports and default address while it is in the list. */
  names?: string[];
  /** What every member is made of: base image, size, guest boot, forwards, readiness, guest login. */
  template: FleetTemplate;
  /**
   * How new members are placed: "spread" (default: on the host with the fewest members, round
   * robin for a new fleet) or "pack" (fill a host, then the next). A member once placed stays on
   * its host (recorded in the stack): removing another member, adding a host or a host reporting
   * other figures never moves it.
   */
  placement?: Placement;
  /** Member name -> host key: move a member on purpose. Its disk is made anew there (the preview says so). */
  pin?: Record<string, string>;
  /** Place every member again as for a new fleet: members may move, and each moved member's disk is made anew. */
  rebalance?: boolean;
  /**
   * Host ports for the forwards, given by position. Default: each member's forwards get free ports
   * from its host's ledger (Vm `ports` without `host`), so the same fleet program runs twice at
   * once on the same hosts; they stay with the member across updates.
   */
  portRange?: PortRange;
  /** For `ansibleInventory` and `sshConfig`: the private key file on the machine that will use them. */
  privateKeyFile?: string;
  /** Restart members one host at a time when a template change needs restarts (default: all at once). */
  rollingUpdate?: boolean;
  /**
   * A snapshot of every member, taken once it runs (its disk, and its memory when asked):
   * change `revertTrigger` and `up` brings the whole fleet back to it in place.
   */
  snapshot?: FleetSnapshot;
  /** Put every member on one private Network over the fleet's hosts, each with its own address. */
  network?: FleetNetwork;
  /** A lease on every member VM (see Vm `expiresAfter`): `pulumi-qemu gc --expired` removes them once it has passed. */
  expiresAfter?: string;
  /**
   * Members start warm: on each host one guest of the template boots once and is saved running
   * (a WarmState, shared by every fleet of the same template there and kept for the next up), and
   * each member resumes it from a linked clone of its disk with its RAM mapped copy-on-write, then
   * is made itself through the guest agent (hostname, machine-id, SSH host keys, RNG, clock,
   * private MAC and address). Needs `template.guestAgent`; a member restarted later boots its own disk.
   */
  warmStart?: boolean;
}

export interface FleetNetwork {
  /** The members' IPv4 subnet, e.g. "10.77.0.0/24". */
  subnet: string;
  /** Addresses by member position; default the subnet's 10th address on (x.x.x.10, .11, ...), kept by each member (its slot). */
  addresses?: string[];
  /** By host key: the address the fleet's other hosts reach that host at. Default: the Host's address. */
  hostAddresses?: Record<string, pulumi.Input<string>>;
  /** UDP port of the links between hosts. Default: free ports from each host's ledger. */
  port?: number;
}

export interface FleetSnapshot {
  /** The snapshot's name in each member's disk; starts with a letter. */
  name: string;
  /** Save each running guest's memory too (a revert resumes it where it was, without a restart). */
  memory?: boolean;
  /** Any value; when it changes, every member is reverted to the snapshot. */
  revertTrigger?: pulumi.Input<unknown>;
}

/**
 * N throwaway VMs across hosts from one template: a shared base image per host, a linked clone
 * and a VM per member, host ports that stay with their member, an Ansible inventory and an ssh
 * config out. A plan that does not fit the hosts' memory or cores is refused before anything starts.
 */
export class Fleet extends pulumi.ComponentResource {
  /** Every member: name, host key, guest SSH address and port, status, accelerator. */
  readonly members: pulumi.Output<FleetMember[]>;
  /** Member name -> host key. */
  readonly placement: pulumi.Output<Record<string, string>>;
  /** YAML inventory for Ansible, one group per host. */
  readonly ansibleInventory: pulumi.Output<string>;
  /** An ~/.ssh/config snippet, one Host block per member. */
  readonly sshConfig: pulumi.Output<string>;
  /** Member name -> the guest's SSH connection in the shape @pulumi/command's remote.Command takes. Secret. */
  readonly guestConnections: pulumi.Output<Record<string, GuestConnection | undefined>>;
  /** The members' VMs, in member order. */
  readonly vms: Vm[];
  /** The members' linked-clone disks, in member order. */
  readonly disks: Disk[];
  /** The members' snapshots (with `snapshot`), in member order. */
  readonly snapshots: Snapshot[];
  /** The members' private network (with `network`). */
  readonly network?: Network;
  /** With `warmStart`: the saved guest each host's members resume, by host key. */
  readonly warmStates?: Record<string, WarmState>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qemu:index:Fleet", name, {}, opts);
    const t = args.template;
    const { keys, names, placement, needs, guestSshPort, forwards, range, privateAddresses, prefix } = fleetSettings(name, args);
    const child = { parent: this };

    const capabilities = args.capabilities ?? Object.fromEntries(keys.map((k) =>
      [k, new HostCapabilities(`${name}-${k}-capabilities`, { host: args.hosts[k].connection }, child)]));
    // One Output per host: a preview that does not know a new host's figures yet knows the others'.
    const capacities = keys.map((k) => pulumi.all([args.hosts[k].cores, args.hosts[k].memoryBytes, capabilities[k].accelerators])
      .apply(([cores, memoryBytes, accs]): FleetHostCapacity => ({ key: k, cores, memoryBytes, usableAccelerators: accs.filter((a) => a.usable).map((a) => a.name) })));
    // Recorded in the stack: a member keeps its host and slot (default address, range ports).
    const seating = new FleetPlacement(`${name}-placement`, { fleet: name, names, hostKeys: keys, hosts: capacities, needs: plainNeeds(needs), placement, pin: args.pin, rebalance: args.rebalance }, child);
    this.placement = seating.seats.apply((s) => Object.fromEntries(names.map((n) => [n, s[n].host])));

    // One base image per host, named by its content: fleets with the same image share it. A
    // published one is fetched by each host into its cache; a local file is uploaded.
    const published = publishedBase(t.baseImage);
    const bases: Record<string, { path: pulumi.Output<string> }> = published
      ? Object.fromEntries(keys.map((k) => [k, new Image(`${name}-${k}-image`, { ...published, host: args.hosts[k].connection }, child)]))
      : localBases(name, t.baseImage as string, keys, args.hosts, child);
    // Only the member's own host's value: another host's unknown (a new host in a preview) is not its.
    const onHost = <T>(i: number, pick: (k: string) => pulumi.Output<T>): pulumi.Output<T> =>
      seating.hostOf(names[i]).apply((key) => pick(key)) as pulumi.Output<T>;
    const slotOf = (i: number) => seating.slots.apply((s) => s[names[i]]);

    const net = args.network;
    this.network = net ? new Network(`${name}-net`, {
      subnet: net.subnet, port: net.port,
      hosts: keys.map((k) => (net.hostAddresses?.[k] !== undefined ? { host: args.hosts[k], address: net.hostAddresses[k] } : args.hosts[k])),
    }, child) : undefined;

    // The saved guest has the members' NICs: the user-mode one (with forwards), then the private one.
    const nics = [...(forwards.length ? ["user" as const] : []), ...(net ? ["private" as const] : [])];
    const warm = args.warmStart ? Object.fromEntries(keys.map((k) => [k, new WarmState(`${name}-${k}-warm`, {
      host: args.hosts[k].connection, baseImage: bases[k].path, diskSize: t.diskSize, cpus: needs.cpus, memory: t.memory ?? "512M",
      accelerator: typeof t.accelerator === "string" ? t.accelerator : undefined, machine: t.machine, kernel: t.kernel, initrd: t.initrd,
      append: t.append, extraArgs: t.extraArgs, nics, readiness: t.readiness, cloudInit: t.cloudInit,
    }, child)])) : undefined;
    this.warmStates = warm;

    this.disks = [];
    const addresses: Array<pulumi.Output<string> | undefined> = [];
    this.vms = names.map((member, i) => {
      const host = onHost(i, (k) => args.hosts[k].connection);
      const backingImage = onHost(i, (k) => (warm ? warm[k].disk : bases[k].path));
      const disk = new Disk(`${member}-disk`, { host, name: member, backingImage, size: t.diskSize }, child);
      this.disks.push(disk);
      const ports = range
        ? slotOf(i).apply((slot) => invalidAsRunError(name, () => rangePorts(slot, forwards, range)))
        : forwards.map((f) => ({ guest: f.guest, protocol: f.protocol }));
      // On a network: a second NIC, and the address on a direct-boot kernel's command line (the test guest reads it).
      const address = privateAddresses ? slotOf(i).apply((slot) => invalidAsRunError(name, () => privateAddresses(i, slot))) : undefined;
      const append = address && t.kernel ? address.apply((a) => [t.append, `pulumi-qemu.ip=${a}/${prefix}`].filter(Boolean).join(" ")) : t.append;
      addresses.push(address);
      // With no forwards on a network, the private NIC is the only one.
      const userNic = forwards.length ? [pulumi.output(ports).apply((p) => ({ type: "user" as const, ports: p }))] : [];
      const networking = address ? { networks: [...userNic, this.network!.attach(address)] } : { ports };
      return new Vm(member, {
        host, name: member, cpus: needs.cpus, memory: t.memory ?? "512M", accelerator: t.accelerator ?? "auto", machine: t.machine,
        disks: [disk.path], kernel: t.kernel, initrd: t.initrd, append, extraArgs: t.extraArgs, ...networking,
        state: t.state, readiness: t.readiness, stopTimeouts: t.stopTimeouts,
        cloudInit: t.cloudInit === undefined ? undefined : memberSeed(t.cloudInit, address && { userNic: forwards.length > 0, address, prefix: prefix! },
          warm && onHost(i, (k) => warm[k].instanceId)),
        rolloutGroup: args.rollingUpdate ? name : undefined, expiresAfter: args.expiresAfter,
        guestUser: t.guestUser, guestPrivateKey: t.guestPrivateKey, guestSshPort, guestAgent: t.guestAgent,
        warmFrom: warm ? onHost(i, (k) => warm[k].dir) : undefined,
      }, child);
    });

    const snap = args.snapshot;
    this.snapshots = snap ? this.vms.map((vm, i) => new Snapshot(`${names[i]}-${snap.name}`, { vm, name: snap.name, memory: snap.memory, revertTrigger: snap.revertTrigger }, child)) : [];

    // Where each guest's SSH answers, as its Vm reports it; only the key in guestConnection is secret.
    const sshEndpoints = this.vms.map((vm) => pulumi.unsecret(vm.guestConnection.apply((c) => ({ host: c?.host ?? "", port: c?.port ?? 0 }))));
    this.members = pulumi.all(this.vms.map((vm, i) => pulumi.all([seating.hostOf(names[i]), vm.status, vm.acceleratorInUse, sshEndpoints[i], addresses[i]])))
      .apply((states) => names.map((member, i): FleetMember => {
        const [host, status, accelerator, ssh, privateAddress] = states[i];
        return {
          name: member, host, sshHost: ssh.host, sshPort: ssh.port,
          sshUser: t.guestUser ?? "root", status, ...(accelerator ? { accelerator } : {}),
          ...(privateAddress ? { privateAddress } : {}),
        };
      }));
    this.ansibleInventory = this.members.apply((m) => ansibleInventory(m, args.privateKeyFile));
    this.sshConfig = this.members.apply((m) => sshConfig(m, args.privateKeyFile));
    this.guestConnections = pulumi.secret(pulumi.all(this.vms.map((vm) => vm.guestConnection))
      .apply((all) => Object.fromEntries(names.map((n, i) => [n, all[i]]))));
    this.registerOutputs({ members: this.members, placement: this.placement, ansibleInventory: this.ansibleInventory, sshConfig: this.sshConfig });
  }
}

/** The template's base image when it is a published one (`{ url, sha256 }`), not a local file. */
function publishedBase(baseImage: FleetTemplate["baseImage"]): FleetImageSource | undefined {
  return typeof baseImage === "object" && baseImage !== null ? baseImage : undefined;
}

/** A local base image, read once, uploaded to each host as a shared Disk. */
function localBases(name: string, file: string, keys: string[], hosts: Record<string, Host>, child: pulumi.CustomResourceOptions): Record<string, Disk> {
  const image = invalidAsRunError(name, () => baseImageFile(file));
  return Object.fromEntries(keys.map((k) => [k, new Disk(`${name}-${k}-base`, {
    host: hosts[k].connection, name: image.stem, shared: true, source: image.path,
    path: hosts[k].workDir.apply((w) => sharedImagePath(w, image.stem, image.format)),
  }, child)]));
}

/** @internal The local image, its format (from its first bytes) and a name that changes with its content. */
export function baseImageFile(file: string): { path: string; stem: string; format: "qcow2" | "raw" } {
  if (typeof file !== "string" || file === "") throw new InvalidArgumentError("template.baseImage", "must be a path on the machine running Pulumi");
  let magic: Buffer;
  try {
    magic = localFileHead(file, HEADER_BYTES);
  } catch (e) {
    throw new InvalidArgumentError("template.baseImage", `cannot read ${file}: ${(e as Error).message}`);
  }
  // A Fleet has no opt-in: a base that names other files is flattened, or made a Disk of its own.
  const reason = referencesReason(magic, "a Disk's allowExternalFiles");
  if (reason) throw new InvalidArgumentError("template.baseImage", `${file}: ${reason}`);
  const format = isQcow(magic) ? "qcow2" : "raw";
  const sha = localFileSha256(file).slice(0, 16);
  const base = path.basename(file).replace(/\.(qcow2|img|raw)$/, "").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 40) || "image";
  return { path: path.resolve(file), stem: `${base}-${sha}`, format };
}

/** @internal The fleet's plain settings, validated: a bad one fails as "Fleet <name>: <property>: <reason>". */
export function fleetSettings(name: string, args: FleetArgs) {
  return invalidAsRunError(name, () => settings(name, args));
}

function settings(name: string, args: FleetArgs) {
  const t = args.template;
  const keys = Object.keys(args.hosts);
  const names = memberNames(name, args.count, args.names);
  const placement = oneOf(args.placement ?? "spread", "placement", PLACEMENTS);
  const needs = { cpus: integerIn(t.cpus ?? 1, "template.cpus", 1, 1024), memoryBytes: sizeBytes(t.memory ?? "512M", "template.memory"), accelerator: t.accelerator };
  const guestSshPort = t.guestSshPort ?? 22;
  const forwards = t.ports ?? [{ guest: guestSshPort }];
  const range = args.portRange;
  // Written into other tools' formats (ssh_config, the Ansible inventory): refused before anything runs.
  if (!args.names && names.length) safeName(names[names.length - 1], "name (the Fleet's resource name, which names its members)");
  const published = publishedBase(t.baseImage);
  if (published) {
    imageUrl(published.url, "template.baseImage.url");
    declaredDigest(published, "template.baseImage.");
  }
  if (t.guestUser !== undefined) sshConfigWord(t.guestUser, "template.guestUser", "word");
  if (args.privateKeyFile !== undefined) sshConfigPath(args.privateKeyFile);
  if (args.rollingUpdate !== undefined && typeof args.rollingUpdate !== "boolean") {
    throw new InvalidArgumentError("rollingUpdate", `must be true or false, got ${JSON.stringify(args.rollingUpdate)}`);
  }
  if (args.rebalance !== undefined) booleanInput(args.rebalance, "rebalance");
  booleanInput(t.guestAgent, "template.guestAgent");
  if (booleanInput(args.warmStart, "warmStart")) warmSettings(t);
  checkPins(args.pin, names, keys);
  if (args.snapshot !== undefined) {
    snapshotTag(args.snapshot?.name, "snapshot.name");
    booleanInput(args.snapshot.memory, "snapshot.memory");
  }
  if (range && names.length > rangeCapacity(forwards.length, range)) {
    throw new InvalidArgumentError("portRange", `${range.from}-${range.to} holds ${rangeCapacity(forwards.length, range)} members of ${forwards.length} forwards, not ${names.length}`);
  }
  const { privateAddresses, prefix } = networkSettings(args.network, names.length);
  return { keys, names, placement, needs, guestSshPort, forwards, range, privateAddresses, prefix };
}

/** What a warm start needs of the template: the agent (a member is made itself through it), and one accelerator. */
function warmSettings(t: FleetTemplate): void {
  if (t.guestAgent !== true) throw new InvalidArgumentError("warmStart", "needs template.guestAgent: true: each member resumed from the saved guest is given its own name, keys and addresses through the guest agent");
  if (Array.isArray(t.accelerator)) throw new InvalidArgumentError("template.accelerator", "must be one accelerator or \"auto\" with warmStart: the saved guest resumes only under the one it ran under");
}

/**
 * A member's seed: the template's, with its private address in a network-config when the
 * template gives none; a warm member's as the saved guest's instance, so that cloud-init takes
 * it for the instance it already set up at its next boot.
 */
function memberSeed(cloudInit: pulumi.Input<CloudInitInputs>, net: { userNic: boolean; address: pulumi.Output<string>; prefix: number } | undefined,
  instanceId: pulumi.Output<string | undefined> | undefined): pulumi.Output<CloudInitInputs> {
  return pulumi.all([cloudInit, net?.address, instanceId]).apply(([c, address, id]) => ({
    ...c,
    ...(instanceId ? { metaData: { ...c.metaData, "instance-id": id } } : {}),
    ...(address && c.networkConfig === undefined ? { networkConfig: memberNetworkConfig(net!.userNic, address, net!.prefix) } : {}),
  }));
}

/**
 * Each member's address on the fleet's network, from its position and slot: a given list is by
 * position; the default is the subnet's (10 + slot)th, so a member keeps it while others come
 * and go. Refused when two given ones are one, or the subnet cannot hold the members.
 */
function networkSettings(net: FleetNetwork | undefined, count: number): { privateAddresses?: (index: number, slot: number) => string; prefix?: number } {
  if (net === undefined) return {};
  const subnet = parseSubnet(net?.subnet, "network.subnet");
  if (net.addresses !== undefined && (!Array.isArray(net.addresses) || net.addresses.length < count)) {
    throw new InvalidArgumentError("network.addresses", `must list an address for each of the ${count} members`);
  }
  const given = net.addresses?.slice(0, count).map((a, i) => hostAddress(a, subnet, `network.addresses[${i}]`));
  given?.forEach((a, i) => {
    const first = given.indexOf(a);
    if (first !== i) throw new InvalidArgumentError(`network.addresses[${i}]`, `${a} is already member ${first}'s: two members cannot share an address`);
  });
  if (!given && count > 0) nthAddress(subnet, 10 + count - 1, "network.subnet");
  const privateAddresses = (index: number, slot: number) => given ? given[index] : nthAddress(subnet, 10 + slot, "network.subnet");
  return { privateAddresses, prefix: subnet.prefix };
}

/** The forwards of the member in `slot`, on its block of the fleet's port range. */
function rangePorts(slot: number, forwards: Array<{ guest: number; protocol?: "tcp" | "udp" }>, range: PortRange) {
  if (slot >= rangeCapacity(forwards.length, range)) {
    throw new InvalidArgumentError("portRange", `${range.from}-${range.to} holds ${rangeCapacity(forwards.length, range)} members of ${forwards.length} forwards; a member keeps slot ${slot}`);
  }
  return memberPorts(slot, forwards.length, range).map((host, j) => ({ host, guest: forwards[j].guest, protocol: forwards[j].protocol }));
}

/** The needs as plain data for a resource's inputs (no undefined members). */
function plainNeeds(needs: { cpus: number; memoryBytes: number; accelerator?: string | string[] }) {
  return { cpus: needs.cpus, memoryBytes: needs.memoryBytes, ...(needs.accelerator !== undefined ? { accelerator: needs.accelerator } : {}) };
}

/** A bad input fails the program with "Fleet <name>: <property>: <reason>", without a stack trace. */
function invalidAsRunError<T>(fleet: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw new pulumi.RunError(`Fleet ${fleet}: ${e.message}`);
    throw e;
  }
}
