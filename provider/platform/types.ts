/** The shape of a platform's host operations (provider/platform/index.ts chooses one). */
import type { VmLayout } from "../layout";
import type { ObserveTarget } from "./posixVmScripts";

/** The upload move's exit status when the place was taken meanwhile (another upload of a shared image, say). */
export const APPEARED_EXIT = 3;

export interface VmScripts {
  start(layout: VmLayout, name: string, specJson: string, qemuArgv: string[], keepSeed?: string): string[];
  observe(targets: ObserveTarget[]): string[];
  signal(layout: VmLayout, name: string, signal: "TERM" | "KILL"): string[];
  cleanup(layout: VmLayout, name: string, what: "runtime" | "all"): string[];
  listSpecs(stateRoot: string): string[];
}

/** What an image fetch needs; the URL is not among it: it goes on the script's stdin. */
export interface FetchPlan {
  cacheDir: string; entry: string; algorithm: "sha256" | "sha512"; hex: string;
  compression: "none" | "gz" | "xz" | "zst" | "bz2"; timeoutMs: number; caFile?: string; via: "host" | "client";
}

export interface HostOps {
  /** For messages: "POSIX" or "Windows" hosts. */
  name: "POSIX" | "Windows";
  /** The shell the scripts run in, for messages and the facts script's format. */
  shell: "sh" | "powershell";
  vm: VmScripts;
  /** Puts an uploaded temp file in its place unless something is there (then the temp goes, exit APPEARED_EXIT). */
  moveIfAbsent(temp: string, path: string): string[];
  /** Removes an upload's temp file and the writer's own temp beside it (`<temp>.tmp-*`), left when a timeout ended it. */
  removeUpload(temp: string): string[];
  /**
   * For every clone recorded beside `path` (POSIX) and every qcow2 image under `dirs`, a record
   * for parseOverlayRecords: `F<path>`, then `J<qemu-img's JSON>`, `E<exit status>`, or `G` when
   * the file was gone by then; then `D<status>` per directory search.
   */
  overlays(dirs: string[], path: string): string[];
  /** Brings an image into the cache: image-fetch.sh / image-fetch.ps1 (same output lines and exit codes). */
  imageFetch(plan: FetchPlan): string[];
  /** Puts a checked `.ready` file at the entry's name (never replacing one there: then it goes). */
  imagePromote(cacheDir: string, entry: string): string[];
  /** Removes what a refused fetch left (its `.ready` file and any `.part`). */
  imageDiscard(cacheDir: string, entry: string): string[];
  /** Two paths name the same file (Windows: either separator, any case). */
  samePath(a: string, b: string): boolean;
  /** Refuses a file name the platform cannot hold (Windows: reserved names and characters). */
  checkFileName(name: string, property: string): void;
  /** Why a command's failure says the host is of the other platform, when it does. */
  misdeclared(message: string): string | undefined;
  /** How to install QEMU there, for a host without it. */
  installQemu: string;
  /** The kernel's name when the platform fixes it (no `uname` to ask). */
  kernelName?: string;
  /** QEMU can daemonize itself (else the start script detaches it). */
  daemonize: boolean;
  /** Unix sockets: QMP on a socket in the state directory, and the datagram sockets of a network's switch. */
  unixSockets: boolean;
  /** Network types QEMU there can give a guest; undefined: all. */
  networkTypes?: readonly string[];
  /** Why a network type is not offered there. */
  networkTypesReason?: string;
  /** The ledger of ports and memory across stacks (and so automatic host ports, the memory check and gc). */
  ledger: boolean;
  /** Files have identities (inodes) to compare; else the same name is the same file (samePath). */
  hardLinks: boolean;
  /** Clone records and shared-image owners kept beside an image. */
  recordsBesideImages: boolean;
  /** A QEMU started by hand can be adopted (its process read the POSIX way). */
  adopt: boolean;
  /** The functional probe runs under probe-runner.sh (else bare, ended by the exec's timeout). */
  probeRunner: boolean;
}

