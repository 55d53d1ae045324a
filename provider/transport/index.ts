import { LocalTransport } from "./local";
import { sshTransport } from "./ssh";
import type { SshOptions } from "./sshOptions";
import type { Transport } from "./types";

export * from "./types";
export { LocalTransport } from "./local";
export { SshTransport, sshTransport, closeAllSshTransports } from "./ssh";
export type { SshOptions, SshHop } from "./sshOptions";
export { shQuote, shJoin, psQuote, psJoin, psEncodedCommand } from "./quote";

/** How a resource names its host: absent for the local machine, else SSH options. */
export type Connection = { kind: "local" } | ({ kind: "ssh" } & SshOptions);

const local = new LocalTransport();

export function transportFor(connection?: Connection): Transport {
  if (!connection || connection.kind === "local") return local;
  const { kind: _kind, ...options } = connection;
  return sshTransport(options);
}
