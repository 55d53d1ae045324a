/**
 * The QEMU command line of a network's switch on one host: no guest (`-machine none`), one hub,
 * a port per member (Unix datagram sockets, private to the user) and, for a network over several
 * hosts, UDP links in a star: the first host's switch links to every other's, so that frames
 * never loop. Pure.
 */
import { optionValue as ov } from "../qemu/optionValue";
import type { VmLayout } from "../layout";
import { hubSocket, memberLink } from "../layout";

export interface UdpEnd {
  host: string;
  port: number;
}

/** What a switch is started with; two specs are equal exactly when the argv would be. */
export interface SwitchSpec {
  /** `-name guest=`: see switchName. */
  name: string;
  network: string;
  subnet: string;
  /** UDP links to the switches of the network's other hosts. */
  links: Array<{ local: UdpEnd; remote: UdpEnd }>;
}

export interface StarHost {
  /** The address the other hosts reach this one at. */
  address: string;
}

/**
 * The links of host `index` in the star over `hosts` (the first is the centre): `ports[k]` are
 * host k's own UDP ports, one per link it has (the centre's, in the order of the other hosts).
 */
export function starLinksOf(hosts: StarHost[], index: number, ports: number[][]): SwitchSpec["links"] {
  if (hosts.length < 2) return [];
  if (index === 0) return hosts.slice(1).map((h, i) => ({ local: { host: hosts[0].address, port: ports[0][i] }, remote: { host: h.address, port: ports[i + 1][0] } }));
  return [{ local: { host: hosts[index].address, port: ports[index][0] }, remote: { host: hosts[0].address, port: ports[0][index - 1] } }];
}

/** How many UDP ports each host's switch binds in the star over `count` hosts. */
export function starPortCounts(count: number): number[] {
  return count < 2 ? Array(count).fill(0) : [count - 1, ...Array(count - 1).fill(1)];
}

/** The ports of a star from one given `port`: the first host uses port+1 ... port+n-1, every other host `port`. */
export function starPortsFrom(count: number, port: number): number[][] {
  return starPortCounts(count).map((n, k) => (k === 0 ? Array.from({ length: n }, (_, i) => port + i + 1) : Array(n).fill(port)));
}

/** The links of host `index` in the star over `hosts`, from UDP `port` up (see starPortsFrom). */
export function starLinks(hosts: StarHost[], index: number, port: number): SwitchSpec["links"] {
  return starLinksOf(hosts, index, starPortsFrom(hosts.length, port));
}

export function netdevId(address: string): string {
  return `m-${address.replace(/\./g, "-")}`;
}

/** The two netdevs of one member's port, as QMP's netdev_add takes them. */
export function memberPort(workDir: string, network: string, address: string): Array<Record<string, unknown>> {
  const id = netdevId(address);
  return [
    { type: "dgram", id, local: { type: "unix", path: hubSocket(workDir, network, address) }, remote: { type: "unix", path: memberLink(workDir, network, address) } },
    { type: "hubport", id: `h${id}`, hubid: 0, netdev: id },
  ];
}

function memberPortArgs(workDir: string, network: string, address: string): string[] {
  const id = netdevId(address);
  return [
    "-netdev", `dgram,id=${id},local.type=unix,local.path=${ov(hubSocket(workDir, network, address))},remote.type=unix,remote.path=${ov(memberLink(workDir, network, address))}`,
    "-netdev", `hubport,id=h${id},hubid=0,netdev=${id}`,
  ];
}

export function switchArgv(qemuBinary: string, workDir: string, spec: SwitchSpec, layout: VmLayout, members: string[]): string[] {
  return [
    qemuBinary,
    "-name", `guest=${ov(spec.name)}`,
    "-machine", "none", "-nodefaults", "-no-user-config", "-display", "none",
    "-qmp", `unix:${ov(layout.qmpSocket)},server=on,wait=off`,
    "-pidfile", layout.pidfile,
    "-trace", "enable=runstate_set", "-D", layout.qemuLog,
    "-daemonize",
    // A port with nothing behind it always takes frames: without it, a frame that arrives while
    // the hub has no other port waits in a queue nobody flushes, and its member's port stops reading.
    "-netdev", "hubport,id=sink,hubid=0",
    ...spec.links.flatMap((l, i) => [
      "-netdev", `dgram,id=link${i},local.type=inet,local.host=${l.local.host},local.port=${l.local.port},remote.type=inet,remote.host=${l.remote.host},remote.port=${l.remote.port}`,
      "-netdev", `hubport,id=hlink${i},hubid=0,netdev=link${i}`,
    ]),
    ...members.flatMap((a) => memberPortArgs(workDir, spec.network, a)),
  ];
}
