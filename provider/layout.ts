/**
 * Every path the package uses on a host, named in one place: under the working directory the
 * VMs' and networks' state directories (and every file in them), the disks, the shared base
 * images and the probe cache. Nothing outside a VM's state directory is removed on its behalf.
 */
import { InvalidArgumentError } from "./errors";

function trimmed(workDir: string): string {
  return workDir.replace(/\/+$/, "");
}

/** Default place of a Disk's image. (The working directory as given: a trailing slash kept, so that a recorded path never changes.) */
export function diskPath(workDir: string, name: string, format: string): string {
  return `${workDir}/disks/${name}.${format}`;
}

/** A shared base image (a Fleet's), named by its content. */
export function sharedImagePath(workDir: string, stem: string, format: string): string {
  return `${workDir}/images/${stem}.${format}`;
}

/**
 * A WarmState (provider/resources/warmState.ts): a booted guest saved once per host and content
 * key, that VMs resume instead of booting. `disk` is the backing file of their clones; `memory`
 * the guest's RAM, which each of them maps copy-on-write; `state` the devices' state (QEMU's
 * migration stream without the RAM); `meta` is written last: without it the state is unfinished.
 */
export interface WarmLayout {
  root: string;
  dir: string;
  disk: string;
  memory: string;
  state: string;
  meta: string;
}

export function warmRoot(workDir: string): string {
  return `${trimmed(workDir)}/warm`;
}

export function warmLayout(workDir: string, key: string): WarmLayout {
  return warmLayoutAt(`${warmRoot(workDir)}/${key}`);
}

/** The layout of the WarmState at `dir` (a Vm's warmFrom). */
export function warmLayoutAt(dir: string): WarmLayout {
  return { root: dir.slice(0, dir.lastIndexOf("/")), dir, disk: `${dir}/disk.qcow2`, memory: `${dir}/memory`, state: `${dir}/devices`, meta: `${dir}/meta.json` };
}

/** The capability probes' cache, relative to the working directory (the facts scripts read it there). */
export const PROBE_CACHE_DIR = ".pulumi-qemu-probe";

export function probeCacheDir(workDir: string): string {
  return `${workDir}/${PROBE_CACHE_DIR}`;
}

/** sun_path sizes, terminator included: a longer socket path cannot be bound. */
export const UNIX_SOCKET_PATH_MAX: Record<string, number> = { Linux: 108, Darwin: 104, FreeBSD: 104 };

export interface VmLayout {
  dir: string;
  /**
   * The name its QEMU runs under (`-name guest=`) and the host scripts check. A VM's is its state
   * directory's last component: `NAME.TAG` for a VM made by this release (TAG from its owner
   * token, provider/vm/owner.ts: two stacks with the same names never share one), `NAME` for
   * older ones. A network switch's is `network-NAME`.
   */
  name: string;
  /** The directory of all such state directories (`<workDir>/vms`, `<workDir>/networks`). */
  root: string;
  pidfile: string;
  qmpSocket: string;
  /** The QEMU guest agent's channel (Vm guestAgent), a Unix socket like QMP's. */
  qgaSocket: string;
  serialLog: string;
  /** The spec the running instance was started with (JSON). */
  startedSpec: string;
  /** QEMU's stderr while it daemonizes: the start error, word for word. */
  startLog: string;
  /**
   * QEMU's log (-D): its run-state changes (trace event runstate_set), read without QMP, and
   * every message QEMU prints once it has daemonized (its stderr goes there too).
   */
  qemuLog: string;
  lock: string;
  /** "PID STARTTIME" of the running instance, written when it started (see hostScripts' is_ours). */
  identity: string;
  /** Who owns the directory (provider/vm/owner.ts): one line of JSON, written when it was made. */
  owner: string;
  /** Options QEMU reads from a file (-readconfig) rather than from its command line, which `ps` shows every local user. */
  readConfig: string;
}

export function vmStateRoot(workDir: string): string {
  return `${trimmed(workDir)}/vms`;
}

/** A `-pidfile` in this package's layout (`<workDir>/vms/<name>/qemu.pid`): a QEMU some state directory manages. */
export function isManagedPidfile(path: string): boolean {
  return /\/vms\/[^/]+\/qemu\.pid$/.test(path);
}

export function vmLayout(workDir: string, name: string): VmLayout {
  return stateDirLayout(vmStateRoot(workDir), name);
}

/** The layout of the VM state directory at `stateDir` (a Vm's recorded `stateDir` output). */
export function vmLayoutAt(stateDir: string): VmLayout {
  const cut = stateDir.lastIndexOf("/");
  return stateDirLayout(stateDir.slice(0, cut), stateDir.slice(cut + 1));
}

/** The files of one state directory under `root`: a VM's, or a network switch's. */
function stateDirLayout(root: string, dirName: string, name = dirName): VmLayout {
  const dir = `${root}/${dirName}`;
  return {
    dir,
    name,
    root,
    pidfile: `${dir}/qemu.pid`,
    qmpSocket: `${dir}/qmp.sock`,
    qgaSocket: `${dir}/qga.sock`,
    serialLog: `${dir}/serial.log`,
    startedSpec: `${dir}/spec.json`,
    startLog: `${dir}/start.log`,
    qemuLog: `${dir}/qemu.log`,
    lock: `${dir}/lock`,
    identity: `${dir}/qemu.identity`,
    owner: `${dir}/owner`,
    readConfig: `${dir}/qemu.cfg`,
  };
}

/**
 * What names a VM's seed image: an HMAC keyed with the VM's secret seed key; `sha256` (unkeyed,
 * reversible by guessing short passwords) only in VMs an older release made, until their seed changes.
 */
export interface SeedDigest {
  hmacSha256?: string;
  sha256?: string;
}

/** The cloud-init seed image: named by its digest, so a running instance's seed is never overwritten. */
export function cloudInitSeedPath(layout: VmLayout, seed: SeedDigest): string {
  return `${layout.dir}/cidata-${(seed.hmacSha256 ?? seed.sha256 ?? "").slice(0, 16)}.iso`;
}

/** Refuses a layout whose QMP socket path the host's kernel could not bind. */
export function checkSocketPath(layout: VmLayout, os: string, property = "host.workDir"): void {
  if (os === "Windows") return; // no Unix socket there: QMP listens on loopback TCP
  checkUnixSocketPath(layout.qmpSocket, "the VM's QMP socket", os, property, "VM name");
}

/** Refuses a Unix socket path the host's kernel could not bind. */
export function checkUnixSocketPath(path: string, what: string, os: string, property: string, name: string): void {
  const max = UNIX_SOCKET_PATH_MAX[os] ?? 104;
  const length = Buffer.byteLength(path) + 1;
  if (length > max) {
    throw new InvalidArgumentError(property, `${what} ${path} would be ${length} bytes with its terminator; ${os} allows ${max}: use a shorter working directory or ${name}`);
  }
}

/**
 * Where a private network lives on a host: its switch (a QEMU process with no guest) has a state
 * directory like a VM's under `<workDir>/networks/<name>`, and each member joins through a pair
 * of Unix datagram sockets: the switch's `<address>.hub` and the member's own socket in its VM
 * state directory, which the switch reaches through the link `<address>.vm`.
 */
export function networksRoot(workDir: string): string {
  return `${trimmed(workDir)}/networks`;
}

/** The switch's `-name guest=`: names its process (see hostScripts' is_ours). */
export function switchName(network: string): string {
  return `network-${network}`;
}

/** The switch's state directory: the same files as a VM's (pidfile, QMP socket, log, lock, spec). */
export function switchLayout(workDir: string, network: string): VmLayout {
  return stateDirLayout(networksRoot(workDir), network, switchName(network));
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

/** The VM whose state directory a member link points into (under `workDir`); undefined for anything else. */
export function vmOfMemberSocket(workDir: string, target: string): string | undefined {
  const m = /^(.*\/vms)\/([A-Za-z0-9][A-Za-z0-9_.-]*)\/net-[A-Za-z0-9][A-Za-z0-9_.-]*\.dgram$/.exec(target);
  return m && m[1] === vmStateRoot(workDir) ? m[2] : undefined;
}

/** The name a state directory stands for: its last component. */
export function stateDirName(dir: string): string {
  return dir.slice(dir.lastIndexOf("/") + 1);
}

/** The host's cache of images fetched by URL (Image), shared by every stack of the working directory. */
export function imageCacheDir(workDir: string): string {
  return `${trimmed(workDir)}/images/cache`;
}

/** Where the linked clones of a base image are recorded: a directory beside it, one file per clone. */
export function cloneRecordDir(base: string): string {
  const slash = base.lastIndexOf("/");
  return `${base.slice(0, slash + 1)}.${base.slice(slash + 1)}.clones`;
}
