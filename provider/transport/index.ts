import { LocalTransport } from "./local";
import { sshTransport } from "./ssh";
import type { SshOptions } from "./sshOptions";
import type { Transport } from "./types";

export * from "./types";
export { LocalTransport } from "./local";
export { SshTransport, sshTransport, closeAllSshTransports } from "./ssh";
export { sshStats } from "./stats";
export * from "./hostFiles";
export { platformIo, LOCAL_PLATFORM, type PlatformIo } from "./platformIo";
export { EXIT, POSIX_QEMU_DIRS, POSIX_QEMU_PATH, shScriptArgv, psScriptText } from "./hostScript";
export { validateConnection } from "./connection";
export { psScriptArgv, decodePsScript, winJoin, winQuoteArg } from "./windows";
export type { SshOptions, SshHop } from "./sshOptions";
export { shQuote, shJoin, psQuote, psJoin, psEncodedCommand } from "./quote";

/** How to reach a host: the local machine or SSH options (a Host's inputs, before its working directory is settled). */
export type Endpoint = ({ kind: "local" } | ({ kind: "ssh" } & SshOptions)) & { workDir?: string; memoryOvercommit?: number };

/**
 * How a resource names its host (a Host's `connection` output, checked by validateConnection):
 * the endpoint, the host's working directory (absolute) under which disks and VM state
 * directories live, and how much of its memory the VMs of all stacks may take together
 * (`memoryOvercommit`, 1 = all of it; the Host's).
 */
export type Connection = Endpoint & { workDir: string };

const local = new LocalTransport();

/**
 * Answers some connections with a transport of its own, before the local and SSH ones: a host
 * this machine cannot reach for real (the tests' recorded Windows and macOS hosts), or a route
 * an embedding program provides. undefined for a connection leaves it to the default.
 */
export type TransportResolver = (connection: Endpoint) => Transport | undefined;
let resolver: TransportResolver | undefined;

/** Puts a resolver in front of the default transports (undefined removes it). */
export function useTransports(r: TransportResolver | undefined): void {
  resolver = r;
}

export function transportFor(connection?: Endpoint): Transport {
  const injected = connection && resolver?.(connection);
  if (injected) return injected;
  if (!connection || connection.kind === "local") return local;
  const { kind: _kind, workDir: _workDir, memoryOvercommit: _ratio, ...options } = connection;
  return sshTransport(options);
}
