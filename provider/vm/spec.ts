/** A Vm's inputs, validated (every error names its property) and normalized into a VmSpec. */
import { createHmac } from "crypto";
import { InvalidArgumentError } from "../errors";
import { ACCELERATOR_NAMES } from "../host/accelerators/types";
import { normalizeArch } from "../host/facts";
import { validateConnection, type Connection } from "../transport";
import { absolutePath, booleanInput, collectInvalid, durationMs, integerIn, oneOf, safeHostName, safeName, sizeBytes } from "../validate";
import { cloudInitSeed, type CloudInitInputs } from "../cloudInit/seed";
import type { SeedDigest } from "../layout";
import type { OwnerLabel } from "./owner";
import { hostAddress, overlaps, parseSubnet, subnetText } from "../subnet";

/** QEMU options the manager sets or relies on, as QEMU names them (it reads `--x` as `-x`). */
const MANAGER_OPTIONS = new Set(["daemonize", "pidfile", "qmp", "qmp-pretty", "monitor", "mon", "name", "serial", "chardev", "D",
  "readconfig", "runas", "chroot", "run-with", "accel", "enable-kvm", "no-kvm"]);

/** Groups of `-set GROUP.ID.PROP=VALUE` that reach what the manager made: its chardevs (QMP, serial), drives, monitors, accelerator. */
const MANAGER_SET_GROUPS = /^(chardev|drive|mon|accel)\./;

/**
 * An extraArgs element that names such an option; a machine option that picks the accelerator;
 * a `-set` on the manager's objects; a `mon:` character device (a monitor) on any option.
 */
export function managerOption(arg: string, previous: string | undefined): boolean {
  const option = /^--?([A-Za-z][\w-]*)$/.exec(arg)?.[1];
  if (option !== undefined && MANAGER_OPTIONS.has(option)) return true;
  const after = (re: RegExp) => previous !== undefined && re.test(previous);
  if (after(/^--?(machine|M)$/) && /(^|,)accel=/.test(arg)) return true;
  if (after(/^--?set$/) && MANAGER_SET_GROUPS.test(arg)) return true;
  // -parallel, -debugcon and the like take a character device; `mon:` multiplexes a monitor onto it.
  return after(/^--?[A-Za-z]/) && /^mon:/.test(arg);
}

/** The id of the guest agent's character device (argv.ts): extraArgs may not name it. */
export const GUEST_AGENT_CHARDEV = "pq-qga";
const NAMES_AGENT_CHARDEV = new RegExp(`(^|,)(chardev|id)=${GUEST_AGENT_CHARDEV}(,|$)`);

export const DISK_INTERFACES = ["virtio", "ide", "scsi", "nvme"] as const;
export const DISK_FORMATS = ["qcow2", "raw"] as const;
/** "any": created running, then its power state is the user's (refresh and up leave it alone). */
export const VM_STATES = ["running", "stopped", "any"] as const;
export type VmState = (typeof VM_STATES)[number];

export interface DiskAttachment {
  path: string;
  interface?: (typeof DISK_INTERFACES)[number];
  format?: (typeof DISK_FORMATS)[number];
  readOnly?: boolean;
}

export interface PortForward {
  /** Port on the host. In inputs it may be left out, or "auto" (PortForwardInput). */
  host: number;
  /** Port in the guest. */
  guest: number;
  protocol?: "tcp" | "udp";
  /** Host address to listen on. Default 127.0.0.1 on the local machine, 0.0.0.0 on SSH hosts. */
  hostAddress?: string;
}

/** A forward as a program gives it: without `host`, or with "auto", the host allocates a port (provider/vm/ports.ts) that stays with the VM. */
export type PortForwardInput = Omit<PortForward, "host"> & { host?: number | "auto" };

export type NetworkSpec =
  | { type: "user"; ports?: PortForwardInput[] }
  | { type: "bridge"; bridge: string }
  | { type: "tap"; ifname: string }
  | PrivateNetworkSpec;

/** A member of a Network: its switch on the VM's host, and the VM's address there (its MAC is made from it). */
export interface PrivateNetworkSpec {
  type: "private";
  /** The Network's name. */
  network: string;
  /** The Network's subnet, e.g. "10.77.0.0/24". */
  subnet: string;
  /** This VM's address in the subnet. */
  address: string;
}

export interface ReadinessSpec {
  /** A regular expression the serial log must match. */
  serialPattern?: string;
  /** A guest port (forwarded to the host) that must accept a TCP connection. */
  guestPort?: number;
  /**
   * Ready once cloud-init's last stage has finished (its line on the serial console, which must be
   * the first serial port, as `console=ttyS0` makes it); a problem cloud-init reports there first
   * (bad user-data, a module that failed) fails the wait at once, quoting it.
   */
  cloudInit?: boolean;
  /** Ready once the QEMU guest agent answers (the Vm needs `guestAgent: true`). */
  guestAgent?: boolean;
  /** Default 120000. */
  timeoutMs?: number;
}

export interface StopTimeouts {
  /** After ACPI powerdown, how long the guest may take to power off. Default 30000. */
  powerdownMs?: number;
  /** After QMP quit, and after SIGTERM, how long QEMU may take to exit. Default 5000 each. */
  quitMs?: number;
}

export interface VmInputs {
  host: Connection;
  /** The id of the Host whose `connection` is `host`, passed by the SDK: known in a preview while the connection is not. */
  hostId?: string;
  /** Names the state directory and QEMU's `-name guest=`; default the resource's name. */
  name: string;
  arch?: string;
  cpus?: number;
  memory?: string | number;
  machine?: string;
  cpu?: string;
  accelerator?: string | string[];
  disks?: Array<string | DiskAttachment>;
  cdrom?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  networks?: NetworkSpec[];
  /** Shorthand: forwards on one user-mode network (used when `networks` is absent). */
  ports?: PortForwardInput[];
  extraArgs?: string[];
  state?: (typeof VM_STATES)[number];
  readiness?: ReadinessSpec;
  stopTimeouts?: StopTimeouts;
  /** For `guestConnection`: the guest's SSH user, key and the guest port of its sshd. */
  guestUser?: string;
  guestPrivateKey?: string;
  guestSshPort?: number;
  /** A cloud-init NoCloud seed, attached as a read-only virtio disk labelled "cidata". */
  cloudInit?: CloudInitInputs;
  /** The QEMU guest agent's virtio-serial port, on a socket in the state directory (provider/vm/guestAgent.ts). */
  guestAgent?: boolean;
  /**
   * Keys the seed's digest; made by the provider and kept as a secret in state, never an input a
   * user gives. (A plain hash of user-data is reversed by guessing a short password.)
   */
  seedKey?: string;
  /**
   * Makes the VM's state directory its own on a shared host (provider/vm/owner.ts); made by the
   * provider at create and kept as a secret in state, never an input a user gives.
   */
  ownerToken?: string;
  /** Who the VM is for people, in its owner record: set by the SDK from the program (project, stack, resource name). */
  owner?: OwnerLabel;
  /** A lease: after this long (for example "2h") from its create or last update, `pulumi-qemu gc --expired` stops and removes it. */
  expiresAfter?: string;
  /** The host ports allocated to its forwards without one (provider/vm/ports.ts), by protocol and guest port; kept in state. */
  autoPorts?: Record<string, number>;
  /** Restarts of VMs with the same group run one host at a time (Fleet's `rollingUpdate` sets it). */
  rolloutGroup?: string;
  /** At create: take over a QEMU instance started by hand with `-name NAME` instead of starting one (never another resource's VM). */
  adopt?: boolean;
  /**
   * A WarmState's `dir`: at its create the VM resumes that saved, running guest instead of
   * booting, then is made itself (provider/vm/reidentify.ts). Its first disk must be an unwritten
   * clone of the WarmState's disk, and it needs guestAgent; every later start is a boot.
   */
  warmFrom?: string;
}

/** Everything QEMU is started with, normalized: two specs are equal exactly when the argv would be. */
export interface VmSpec {
  name: string;
  arch: string;
  cpus: number;
  memoryBytes: number;
  machine?: string;
  cpu?: string;
  /** The accelerators asked for, in order ("auto" resolved at start). */
  accelerators: string[];
  disks: Array<Required<Pick<DiskAttachment, "path" | "interface">> & Pick<DiskAttachment, "format" | "readOnly">>;
  cdrom?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  networks: NetworkSpec[];
  extraArgs: string[];
  /** The seed image's digest (its content stays out of the spec, which is stored on the host). */
  cloudInit?: SeedDigest;
  /** Present only when on: a VM started without it keeps an equal spec. */
  guestAgent?: true;
  /** The WarmState directory it was made from (warmFrom): its machine has that state's devices. */
  warm?: string;
}

/** A forward normalized; an auto one (not allocated yet: check and diff) has host port 0, which never reaches QEMU (see context in resources/vm.ts). */
function portForward(p: PortForwardInput, property: string, isLocal: boolean): PortForward {
  const auto = p !== null && typeof p === "object" && (p.host === undefined || p.host === "auto");
  if (!auto) integerIn(p?.host, `${property}.host`, 1, 65535);
  integerIn(p.guest, `${property}.guest`, 1, 65535);
  const protocol = p.protocol === undefined ? "tcp" : oneOf(p.protocol, `${property}.protocol`, ["tcp", "udp"] as const);
  const hostAddress = p.hostAddress ?? (isLocal ? "127.0.0.1" : "0.0.0.0");
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(hostAddress)) throw new InvalidArgumentError(`${property}.hostAddress`, `must be an IPv4 address, got ${JSON.stringify(hostAddress)}`);
  return { host: auto ? 0 : p.host as number, guest: p.guest, protocol, hostAddress };
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function network(n: NetworkSpec, property: string, isLocal: boolean, portsProperty = `${property}.ports`): NetworkSpec {
  const type = oneOf(n?.type, `${property}.type`, ["user", "bridge", "tap", "private"] as const);
  if (type === "private") {
    const p = n as PrivateNetworkSpec;
    const subnet = parseSubnet(p.subnet, `${property}.subnet`);
    return { type, network: safeHostName(p.network, `${property}.network`), subnet: subnetText(subnet), address: hostAddress(p.address, subnet, `${property}.address`) };
  }
  if (type === "user") {
    const ports = (n as { ports?: PortForwardInput[] }).ports ?? [];
    if (!Array.isArray(ports)) throw new InvalidArgumentError(portsProperty, "must be a list");
    return { type, ports: ports.map((p, i) => portForward(p, `${portsProperty}[${i}]`, isLocal)) };
  }
  const key = type === "bridge" ? "bridge" : "ifname";
  const value = (n as Record<string, unknown>)[key];
  if (typeof value !== "string" || !IFNAME.test(value)) throw new InvalidArgumentError(`${property}.${key}`, `must be an interface name (1-15 of letters, digits, '.', '_', '-'), got ${JSON.stringify(value)}`);
  return type === "bridge" ? { type, bridge: value } : { type, ifname: value };
}

/** The host-port forwards of every user-mode network. */
/** The spec's forwards (normalized: every host port a number, 0 for an auto one not allocated yet). */
export function forwardedPorts(spec: Pick<VmSpec, "networks">): PortForward[] {
  return spec.networks.flatMap((n) => (n.type === "user" ? (n.ports ?? []) as PortForward[] : []));
}

/** Where, on the host itself, a forward answers: its bound address, or the loopback for all of them. */
export function forwardAddressOnHost(p: Pick<PortForward, "hostAddress">): string {
  return p.hostAddress === undefined || p.hostAddress === "0.0.0.0" ? "127.0.0.1" : p.hostAddress;
}

/**
 * Where the machine running Pulumi reaches a forward: the SSH host's address for a forward on all
 * addresses, the bound address for one on a single address, the loopback on the local machine.
 * A forward bound to a remote host's loopback is reachable from that host only: undefined.
 */
export function forwardAddressFromClient(host: { kind: string; host?: string }, p: Pick<PortForward, "hostAddress">): string | undefined {
  if (host.kind !== "ssh") return forwardAddressOnHost(p);
  if (p.hostAddress === undefined || p.hostAddress === "0.0.0.0") return host.host;
  return p.hostAddress.startsWith("127.") ? undefined : p.hostAddress;
}

/**
 * Seed keys made from this release on start with "v2:" and key the cloud-init instance-id too. A
 * key an earlier release made keys only the seed's digest: its VM keeps its plain instance-id
 * (a new one would restart the VM and make cloud-init run its first-boot modules again) until
 * its seed changes anyway (see seedKeyFor).
 */
export const SEED_KEY_V2 = "v2:";
export function instanceIdKey(seedKey: string | undefined): string | undefined {
  return seedKey?.startsWith(SEED_KEY_V2) ? seedKey : undefined;
}

/** The WarmState directory a VM starts from: an absolute path, with the agent that makes it itself and a disk to clone. */
function warmFrom(inputs: VmInputs, disks: number): string | undefined {
  if (inputs.warmFrom === undefined) return undefined;
  absolutePath(inputs.warmFrom, "warmFrom");
  if (inputs.guestAgent !== true) throw new InvalidArgumentError("warmFrom", "needs guestAgent: true: a VM resumed from a saved guest is given its own name, addresses and keys through the guest agent");
  if (disks === 0) throw new InvalidArgumentError("warmFrom", "needs a first disk: an unwritten clone of the WarmState's disk");
  return inputs.warmFrom;
}

/** Validates every input and returns the spec; throws all failures together. */
export function vmSpec(inputs: VmInputs): { spec: VmSpec; errors: InvalidArgumentError[]; cloudInitImage?: Buffer; cloudInitInstanceId?: string } {
  const errors: InvalidArgumentError[] = [];
  const e = <T>(f: () => T) => collectInvalid(errors, f);
  const host = e(() => validateConnection(inputs.host, "host"));
  const isLocal = host?.kind !== "ssh";
  const name = e(() => safeName(inputs.name, "name")) ?? "";
  const arch = e(() => {
    const a = inputs.arch ?? "x86_64";
    if (!/^[a-z0-9_]{1,32}$/.test(a)) throw new InvalidArgumentError("arch", `must be a QEMU architecture name such as x86_64 or aarch64, got ${JSON.stringify(a)}`);
    return normalizeArch(a);
  }) ?? "x86_64";
  const cpus = e(() => integerIn(inputs.cpus ?? 1, "cpus", 1, 1024)) ?? 1;
  const memoryBytes = e(() => {
    const bytes = sizeBytes(inputs.memory ?? "512M", "memory");
    if (bytes < 2 ** 20 || bytes % 2 ** 20 !== 0) throw new InvalidArgumentError("memory", `must be a whole number of MiB, at least 1M, got ${JSON.stringify(inputs.memory)}`);
    return bytes;
  }) ?? 0;
  const word = (v: unknown, property: string) => {
    if (v !== undefined && (typeof v !== "string" || !/^[A-Za-z0-9_.+-]{1,64}$/.test(v))) throw new InvalidArgumentError(property, `must be a QEMU model name, got ${JSON.stringify(v)}`);
    return v as string | undefined;
  };
  const machine = e(() => word(inputs.machine, "machine"));
  const cpu = e(() => word(inputs.cpu, "cpu"));
  const accelerators = e(() => {
    const list = inputs.accelerator === undefined ? ["auto"] : Array.isArray(inputs.accelerator) ? inputs.accelerator : [inputs.accelerator];
    if (list.length === 0) throw new InvalidArgumentError("accelerator", "must not be an empty list");
    list.forEach((a, i) => oneOf(a, Array.isArray(inputs.accelerator) ? `accelerator[${i}]` : "accelerator", ["auto", ...ACCELERATOR_NAMES]));
    if (list.includes("auto") && list.length > 1) throw new InvalidArgumentError("accelerator", `"auto" stands alone; it picks from the host's capability report`);
    return list;
  }) ?? ["auto"];
  const disks = (inputs.disks ?? []).map((d, i) => e(() => {
    const attachment: DiskAttachment = typeof d === "string" ? { path: d } : d;
    const property = `disks[${i}]`;
    absolutePath(attachment?.path, typeof d === "string" ? property : `${property}.path`);
    return {
      path: attachment.path,
      interface: oneOf(attachment.interface ?? "virtio", `${property}.interface`, DISK_INTERFACES),
      ...(attachment.format !== undefined ? { format: oneOf(attachment.format, `${property}.format`, DISK_FORMATS) } : {}),
      ...(booleanInput(attachment.readOnly, `${property}.readOnly`) ? { readOnly: true } : {}),
    };
  })).filter((d) => d !== undefined);
  const optionalPath = (v: unknown, property: string) => (v === undefined ? undefined : absolutePath(v, property));
  const cdrom = e(() => optionalPath(inputs.cdrom, "cdrom"));
  const kernel = e(() => optionalPath(inputs.kernel, "kernel"));
  const initrd = e(() => optionalPath(inputs.initrd, "initrd"));
  e(() => {
    if (inputs.append !== undefined && typeof inputs.append !== "string") throw new InvalidArgumentError("append", "must be a string");
    if ((inputs.initrd !== undefined || inputs.append !== undefined) && inputs.kernel === undefined) throw new InvalidArgumentError("kernel", "is required when initrd or append is given");
  });
  const networks = e(() => {
    if (inputs.networks !== undefined && inputs.ports !== undefined) throw new InvalidArgumentError("ports", "give port forwards inside `networks` when `networks` is set");
    const list: NetworkSpec[] = inputs.networks ?? [{ type: "user", ports: inputs.ports ?? [] }];
    if (!Array.isArray(list)) throw new InvalidArgumentError("networks", "must be a list");
    const normalized = list.map((n, i) => (inputs.networks ? network(n, `networks[${i}]`, isLocal) : network(n, "ports", isLocal, "ports")));
    const privates = normalized.flatMap((n, i) => (n.type === "private" ? [{ n, i }] : []));
    privates.forEach(({ n, i }, k) => privates.slice(0, k).forEach(({ n: other, i: j }) => {
      if (other.network === n.network) throw new InvalidArgumentError(`networks[${i}].network`, `VM is already on network ${n.network} (networks[${j}])`);
      if (overlaps(parseSubnet(other.subnet, "subnet"), parseSubnet(n.subnet, "subnet"))) {
        throw new InvalidArgumentError(`networks[${i}].subnet`, `${n.subnet} overlaps ${other.subnet} of network ${other.network} (networks[${j}]): the guest could not tell where to send`);
      }
    }));
    const seen = new Map<string, string>();
    normalized.forEach((n, i) => (n.type === "user" ? n.ports ?? [] : []).forEach((p, j) => {
      if (p.host === 0) return; // auto: the ledger gives each its own
      const key = `${p.protocol}:${p.host}`;
      const where = inputs.networks ? `networks[${i}].ports[${j}]` : `ports[${j}]`;
      if (seen.has(key)) throw new InvalidArgumentError(`${where}.host`, `host port ${p.host}/${p.protocol} is already forwarded by ${seen.get(key)}`);
      seen.set(key, where);
    }));
    return normalized;
  });
  const networksValid = networks !== undefined;
  const networkList = networks ?? [];
  e(() => inputs.expiresAfter === undefined ? undefined : durationMs(inputs.expiresAfter, "expiresAfter"));
  const guestAgent = e(() => booleanInput(inputs.guestAgent, "guestAgent")) ? true : undefined;
  const extraArgs = e(() => {
    const args = inputs.extraArgs ?? [];
    if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) throw new InvalidArgumentError("extraArgs", "must be a list of strings (one argv element each)");
    const owned = args.findIndex((a, i) => managerOption(a, args[i - 1]));
    if (owned >= 0) {
      throw new InvalidArgumentError(`extraArgs[${owned}]`, `${JSON.stringify(args[owned])} would take the VM from pulumi-qemu, which sets or needs what it controls ` +
        "(its pidfile, QMP and monitors, name, serial log, chardevs and drives, accelerator, daemon and user); QEMU reads --option as -option, so every spelling is refused");
    }
    const agentChannel = args.findIndex((a) => NAMES_AGENT_CHARDEV.test(a));
    if (agentChannel >= 0) throw new InvalidArgumentError(`extraArgs[${agentChannel}]`, `${JSON.stringify(args[agentChannel])} names the guest agent's channel ${GUEST_AGENT_CHARDEV}, which pulumi-qemu makes: use guestAgent: true`);
    return args;
  }) ?? [];
  // The disks as given: one whose path a preview does not know yet still counts.
  const warm = e(() => warmFrom(inputs, Array.isArray(inputs.disks) ? inputs.disks.length : 0));
  e(() => inputs.state === undefined ? undefined : oneOf(inputs.state, "state", VM_STATES));
  e(() => {
    booleanInput(inputs.adopt, "adopt");
  });
  e(() => {
    const r = inputs.readiness;
    if (r === undefined) return;
    if (r.serialPattern !== undefined) {
      try { new RegExp(r.serialPattern); } catch (x) { throw new InvalidArgumentError("readiness.serialPattern", `is not a regular expression: ${(x as Error).message}`); }
    }
    if (r.guestPort !== undefined) {
      integerIn(r.guestPort, "readiness.guestPort", 1, 65535);
      const forwarded = forwardedPorts({ networks: networkList }).some((p) => p.guest === r.guestPort && p.protocol === "tcp");
      // Judged only when the networks are valid: one error per mistake.
      if (!forwarded && networksValid) throw new InvalidArgumentError("readiness.guestPort", `guest port ${r.guestPort} is not forwarded to the host: add it to ports`);
    }
    if (r.timeoutMs !== undefined) integerIn(r.timeoutMs, "readiness.timeoutMs", 1, 3600000);
    booleanInput(r.cloudInit, "readiness.cloudInit");
    if (booleanInput(r.guestAgent, "readiness.guestAgent") && inputs.guestAgent !== true) {
      throw new InvalidArgumentError("readiness.guestAgent", "waits for the guest agent, which the VM has only with guestAgent: true");
    }
  });
  e(() => {
    const t = inputs.stopTimeouts ?? {};
    if (t.powerdownMs !== undefined) integerIn(t.powerdownMs, "stopTimeouts.powerdownMs", 0, 3600000);
    if (t.quitMs !== undefined) integerIn(t.quitMs, "stopTimeouts.quitMs", 100, 600000);
  });
  e(() => inputs.guestSshPort === undefined ? undefined : integerIn(inputs.guestSshPort, "guestSshPort", 1, 65535));
  const seed = inputs.cloudInit === undefined ? undefined : (() => {
    const r = cloudInitSeed(inputs.cloudInit, name, "cloudInit", instanceIdKey(inputs.seedKey));
    errors.push(...r.errors);
    return r.seed;
  })();
  const cloudInit = !seed ? undefined
    : inputs.seedKey ? { hmacSha256: createHmac("sha256", inputs.seedKey).update(seed.image).digest("hex") } : { sha256: seed.sha256 };
  const spec: VmSpec = JSON.parse(JSON.stringify({ name, arch, cpus, memoryBytes, machine, cpu, accelerators, disks, cdrom, kernel, initrd, append: inputs.append, networks: networkList, extraArgs, cloudInit, guestAgent, warm }));
  return { spec, errors, cloudInitImage: seed?.image, cloudInitInstanceId: seed?.instanceId };
}
