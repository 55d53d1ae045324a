/**
 * A private network's switch on one host: started, observed and stopped through the same state
 * directory scripts as a VM (lock, pidfile, identity, stop ladder), and the members' joining:
 * a link to the member's socket, and a port hot-added to the running switch through QMP.
 */
import { InvalidArgumentError, QemuError, expectSuccess } from "../errors";
import { vmHandle } from "../vm/handle";
import { withQmp } from "../qemu/qmp";
import { POSIX_QEMU_PATH, type Transport } from "../transport";
import { sameData } from "../canonical";
import { startVm, stopVm } from "../vm/execute";
import { observe, type Observed } from "../vm/observe";
import type { VmSpec } from "../vm/spec";
import { programName } from "../vm/owner";
import { memberLink, memberSocket, switchLayout, switchName, vmLayout, vmOfMemberSocket, type VmLayout } from "../layout";
import { memberPort, switchArgv, type SwitchSpec } from "./switchArgv";

const STOP = { powerdownMs: 0, quitMs: 3000 };

/** The first qemu-system binary on the host: the switch runs no guest, any target will do. */
export function anyQemuArgv(): string[] {
  return ["sh", "-c", `PATH="$PATH:${POSIX_QEMU_PATH}"; for b in qemu-system-x86_64 qemu-system-aarch64 qemu-system-riscv64 qemu-system-i386 qemu-system-arm; do command -v "$b" && exit 0; done; exit 1`];
}

async function anyQemu(t: Transport): Promise<string> {
  const r = await t.exec(anyQemuArgv());
  if (r.exitCode !== 0) throw new QemuError("MISSING_TOOL", `${t.description}: no qemu-system-* binary found for a network switch`);
  return r.stdout.trim().split("\n")[0];
}

/** The member links of a switch's directory: address and the socket it points to. */
export function listMembersArgv(dir: string): string[] {
  return ["sh", "-c", 'for f in "$1"/*.vm; do [ -L "$f" ] && printf "%s\\t%s\\n" "${f##*/}" "$(readlink "$f")"; done; exit 0', "members", dir];
}

export async function listMembers(t: Transport, workDir: string, network: string): Promise<Array<{ address: string; target: string }>> {
  const argv = listMembersArgv(switchLayout(workDir, network).dir);
  return expectSuccess(`${t.description}: listing the members of network ${programName(network)}`, argv, await t.exec(argv)).stdout.split("\n").filter(Boolean).map((line) => {
    const [file, target] = line.split("\t");
    return { address: file.replace(/\.vm$/, ""), target };
  });
}

export function observeSwitch(t: Transport, workDir: string, network: string): Promise<Observed> {
  return observe(vmHandle(t, switchLayout(workDir, network), switchName(network)));
}

/**
 * Runs the switch as specified: one already running with the same spec stays (its members keep
 * their ports); another spec is restarted with every member's port (members do not notice
 * beyond a few lost frames: their sockets stay bound). Returns whether it was (re)started.
 */
export async function ensureSwitch(t: Transport, workDir: string, spec: SwitchSpec): Promise<boolean> {
  const layout = switchLayout(workDir, spec.network);
  const seen = await observe(vmHandle(t, layout, spec.name));
  if (seen.state === "running" && sameData(seen.startedSpec, spec)) return false;
  if (seen.state !== "stopped") await stopVm(vmHandle(t, layout, spec.name), STOP);
  const members = (await listMembers(t, workDir, spec.network)).map((m) => m.address);
  const argv = switchArgv(await anyQemu(t), workDir, spec, layout, members);
  await startVm(vmHandle(t, layout), spec as unknown as VmSpec, argv);
  return true;
}

/**
 * The VM of this working directory a member link points to (undefined for anything else), by the
 * name its program gave it (its started spec's; its name on the host without one), and whether a QEMU of it runs.
 */
async function memberVm(t: Transport, workDir: string, target: string): Promise<{ name?: string; running: boolean }> {
  const onHost = vmOfMemberSocket(workDir, target);
  if (onHost === undefined) return { running: false };
  const seen = await observe(vmHandle(t, vmLayout(workDir, onHost), onHost));
  return { name: seen.startedSpec?.name ?? onHost, running: seen.state !== "stopped" };
}

/** The VMs of this working directory that run on the network here, by name. */
export async function runningMembers(t: Transport, workDir: string, network: string): Promise<string[]> {
  const names: string[] = [];
  for (const m of await listMembers(t, workDir, network)) {
    const vm = await memberVm(t, workDir, m.target);
    if (vm.running) names.push(`VM ${vm.name} (${m.address})`);
  }
  return names;
}

/** Stops the switch and removes its directory; refused while a VM of this working directory runs on it. */
export async function removeSwitch(t: Transport, workDir: string, network: string): Promise<void> {
  const layout = switchLayout(workDir, network);
  const members = await runningMembers(t, workDir, network);
  if (members.length) throw new QemuError("IN_USE", `${t.description}: not removing network ${programName(network)}: ${members.join(", ")} still run on it`);
  await stopVm(vmHandle(t, layout, switchName(network)), STOP, undefined, { removeState: "networks" });
}

/**
 * Whether a VM may start on a network here, reading only: the switch must run, and the address
 * must not be another running VM's. A restart asks before it stops the VM, so that a refusal
 * leaves the running instance alone.
 */
export async function checkJoin(t: Transport, workDir: string, vm: VmLayout, vmName: string, network: string, address: string, property: string): Promise<void> {
  const sw = await observeSwitch(t, workDir, network);
  if (sw.state !== "running") {
    throw new QemuError("NOT_FOUND", `${t.description}: VM ${vmName}: network ${programName(network)} has no running switch in ${switchLayout(workDir, network).dir} (${sw.detail}): declare the Network on this host (the same working directory), or run up to restart it`);
  }
  const current = (await listMembers(t, workDir, network)).find((m) => m.address === address)?.target;
  if (current !== undefined && current !== memberSocket(vm, network)) {
    const other = await memberVm(t, workDir, current);
    if (other.running || other.name === undefined) throw new InvalidArgumentError(property, `${address} on network ${programName(network)} is taken by ${other.name ? `VM ${other.name}` : current}`);
  }
}

/**
 * Before a VM starts on a network here, once checkJoin passed: the address's link points at this
 * VM's socket (and its links at other addresses go: see unlinkOtherAddresses; returned). The port itself is plugged in once the VM's QEMU has made its socket (plugIn):
 * QEMU does not reach a socket that was missing when the port was made.
 */
export async function linkMember(t: Transport, workDir: string, vm: VmLayout, vmName: string, network: string, address: string): Promise<string[]> {
  const link = ["ln", "-sfn", "--", memberSocket(vm, network), memberLink(workDir, network, address)];
  expectSuccess(`${t.description}: joining VM ${vmName} to network ${programName(network)}`, link, await t.exec(link));
  return unlinkOtherAddresses(t, workDir, vm, vmName, network, address);
}

/**
 * A VM that changed its address on a network leaves its old one: the old address's link (which
 * points at this VM's own socket, so it is this VM's) goes, and its port on the running switch is
 * taken out. Otherwise the old address stays taken, and a restarted switch, which makes a port
 * per link, hands the VM every frame twice.
 */
async function unlinkOtherAddresses(t: Transport, workDir: string, vm: VmLayout, vmName: string, network: string, address: string): Promise<string[]> {
  const own = memberSocket(vm, network);
  const stale = (await listMembers(t, workDir, network)).filter((m) => m.target === own && m.address !== address).map((m) => m.address);
  if (!stale.length) return [];
  const rm = ["rm", "-f", "--", ...stale.map((a) => memberLink(workDir, network, a))];
  expectSuccess(`${t.description}: VM ${vmName} leaving its old address on network ${programName(network)}`, rm, await t.exec(rm));
  if ((await observeSwitch(t, workDir, network)).state !== "running") return stale; // its next start makes no port for them
  await withQmp(t, switchLayout(workDir, network).qmpSocket, 5000, async (qmp) => {
    for (const old of stale) {
      const [dgram, hubport] = memberPort(workDir, network, old);
      for (const id of [hubport.id, dgram.id]) await qmp.execute("netdev_del", { id }).catch(notFoundIsGone);
    }
  });
  return stale;
}

/** netdev_del of a port the switch does not have: already gone. */
function notFoundIsGone(e: Error): void {
  if (!/not found|DeviceNotFound/i.test(e.message)) throw e;
}

/** After the VM's QEMU started: its port on the switch, made anew (an old one may predate its socket). */
export async function plugIn(t: Transport, workDir: string, network: string, address: string): Promise<void> {
  const [dgram, hubport] = memberPort(workDir, network, address);
  await withQmp(t, switchLayout(workDir, network).qmpSocket, 5000, async (qmp) => {
    for (const id of [hubport.id, dgram.id]) {
      await qmp.execute("netdev_del", { id }).catch(notFoundIsGone);
    }
    for (const args of [dgram, hubport]) await qmp.execute("netdev_add", args);
  });
}
