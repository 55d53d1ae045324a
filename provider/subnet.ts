/** IPv4 subnets of private networks: parsing, membership, overlap, addresses by position. Pure. */
import { InvalidArgumentError } from "./errors";

export interface Subnet {
  /** The network address as a 32-bit number. */
  base: number;
  prefix: number;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** "10.1.2.3" as a number; undefined when it is not a dotted quad. */
export function ipv4Number(text: unknown): number | undefined {
  const m = typeof text === "string" ? OCTETS.exec(text) : null;
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255) || m.slice(1).some((x) => x.length > 1 && x.startsWith("0"))) return undefined;
  return ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];
}

/** Why another host could not reach this one at `n` (an IPv4 address as a number); undefined for a unicast address. */
export function notReachableReason(n: number): string | undefined {
  const first = n >>> 24;
  if (first === 0) return "is 0.0.0.0/8 (\"this host\", no one's address)";
  if (first === 127) return "is a loopback address: other hosts cannot reach this one there";
  if (first >= 224 && first <= 239) return "is a multicast address";
  if (n === 0xffffffff) return "is the broadcast address";
  if (first >= 240) return "is in 240.0.0.0/4, reserved";
  return undefined;
}

export function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

/** "10.77.0.0/24": prefixes 8 to 30, the address being the network's own (no host bits). */
export function parseSubnet(text: unknown, property: string): Subnet {
  const [address, prefixText, extra] = typeof text === "string" ? text.split("/") : [];
  const base = ipv4Number(address);
  const prefix = /^\d{1,2}$/.test(prefixText ?? "") ? Number(prefixText) : NaN;
  if (base === undefined || extra !== undefined || !(prefix >= 8 && prefix <= 30)) {
    throw new InvalidArgumentError(property, `must be an IPv4 subnet such as "10.77.0.0/24" (prefix 8 to 30), got ${JSON.stringify(text)}`);
  }
  const s = { base, prefix };
  if (base % size(s) !== 0) throw new InvalidArgumentError(property, `${text} has host bits set: the subnet is ${ipv4Text(base - (base % size(s)))}/${prefix}`);
  return s;
}

export function subnetText(s: Subnet): string {
  return `${ipv4Text(s.base)}/${s.prefix}`;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** An address for a member: inside the subnet, neither its network nor its broadcast address. */
export function hostAddress(text: unknown, s: Subnet, property: string): string {
  const n = ipv4Number(text);
  if (n === undefined) throw new InvalidArgumentError(property, `must be an IPv4 address, got ${JSON.stringify(text)}`);
  if (n <= s.base || n >= s.base + size(s) - 1) {
    throw new InvalidArgumentError(property, `${text} is not a host address of ${subnetText(s)} (${ipv4Text(s.base + 1)} to ${ipv4Text(s.base + size(s) - 2)})`);
  }
  return ipv4Text(n);
}

/** The subnet's address number `index` (1 is its first host address); throws past its last. */
export function nthAddress(s: Subnet, index: number, property: string): string {
  if (!Number.isInteger(index) || index < 1 || index > size(s) - 2) {
    throw new InvalidArgumentError(property, `${subnetText(s)} has ${size(s) - 2} host addresses; number ${index} is not one of them`);
  }
  return ipv4Text(s.base + index);
}

/** A locally administered MAC made from the address: unique on one network, the same at every start. */
export function macFor(address: string): string {
  const n = ipv4Number(address)!;
  return ["52", "54", ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((x) => x.toString(16).padStart(2, "0"))].join(":");
}

/** The MAC QEMU gives the i-th NIC declared without one (QEMU's net.c: 52:54:00:12:34:56, then on). The saved guest's NICs get no MAC. */
export function defaultMac(i: number): string {
  return `52:54:00:12:34:${(0x56 + i).toString(16).padStart(2, "0")}`;
}
