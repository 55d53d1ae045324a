/**
 * Where a private network lives on a host: its switch (a QEMU process with no guest) has a state
 * directory like a VM's under `<workDir>/networks/<name>`, and each member joins through a pair
 * of Unix datagram sockets: the switch's `<address>.hub` and the member's own socket in its VM
 * state directory, which the switch reaches through the link `<address>.vm`.
 */
import { vmLayout, type VmLayout } from "../vm/layout";

export function networksRoot(workDir: string): string {
  return `${workDir.replace(/\/+$/, "")}/networks`;
}

/** The switch's `-name guest=`: names its process (see hostScripts' is_ours). */
export function switchName(network: string): string {
  return `network-${network}`;
}

/** The switch's state directory: the same files as a VM's (pidfile, QMP socket, log, lock, spec). */
export function switchLayout(workDir: string, network: string): VmLayout {
  const layout = vmLayout(workDir, network);
  const dir = `${networksRoot(workDir)}/${network}`;
  return Object.fromEntries(Object.entries(layout).map(([k, v]) => [k, dir + v.slice(layout.dir.length)])) as unknown as VmLayout;
}

/** The switch's socket for the member with this address. */
export function hubSocket(workDir: string, network: string, address: string): string {
  return `${networksRoot(workDir)}/${network}/${address}.hub`;
}

/** The link in the switch's directory to the member's socket (which lives in the member's own directory). */
export function memberLink(workDir: string, network: string, address: string): string {
  return `${networksRoot(workDir)}/${network}/${address}.vm`;
}

/** The member's socket on a network, in its VM state directory. */
export function memberSocket(vm: VmLayout, network: string): string {
  return `${vm.dir}/net-${network}.dgram`;
}

/** The VM state directory a member link points into; undefined for anything else. */
export function vmDirOfMemberSocket(target: string): string | undefined {
  const m = /^(.*\/vms\/[A-Za-z0-9][A-Za-z0-9_.-]*)\/net-[A-Za-z0-9][A-Za-z0-9_.-]*\.dgram$/.exec(target);
  return m?.[1];
}
