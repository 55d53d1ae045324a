/**
 * The stack's `qemu:*` configuration, handed over by Pulumi's configure call (the dynamic
 * provider receives the whole stack config). It gives the Host resource its defaults, so a
 * program can say `new Host("h")` and let each stack point it elsewhere. Secret keys are used
 * when connecting and never copied into a resource's inputs.
 */
import { InvalidArgumentError } from "../errors";
import { parseSshTarget } from "../transport/sshOptions";
import { recordFirstCall } from "../transport/stats";
import { enableProgress } from "../progress";

export interface ConfigSource {
  get(key: string): string | undefined;
}

/** Keys whose values become the Host's inputs (recorded in state, shown in diffs). */
export const PLAIN_KEYS = ["host", "port", "user", "hostKey", "knownHostsFile", "agent", "workDir"] as const;
/** Keys read only at connect time (set them with `pulumi config set --secret`). */
export const SECRET_KEYS = ["privateKey", "passphrase", "password"] as const;

type Key = (typeof PLAIN_KEYS)[number] | (typeof SECRET_KEYS)[number];
let values: Partial<Record<Key, string>> = {};

function load(config: ConfigSource): void {
  values = {};
  for (const key of [...PLAIN_KEYS, ...SECRET_KEYS]) {
    const v = config.get(`qemu:${key}`);
    if (v !== undefined && v !== "") values[key] = v;
  }
}

/** The engine's configure call: the stack's config, and progress output from now on. */
export function configure(req: { config: ConfigSource }): void {
  recordFirstCall();
  enableProgress();
  load(req.config);
}

/** For tests: the configuration as if the stack had these `qemu:` keys (no progress output). */
export function configureFrom(record: Partial<Record<Key, string>>): void {
  load({ get: (k) => record[k.replace(/^qemu:/, "") as Key] });
}

export interface HostDefaults {
  address?: string;
  port?: number;
  user?: string;
  hostKey?: string;
  knownHostsFile?: string;
  agent?: string;
  workDir?: string;
}

/** `qemu:host` is "local", "[ssh://][user@]address[:port]"; the other keys fill the rest. */
export function hostDefaults(): HostDefaults {
  const d: HostDefaults = {};
  const host = values.host;
  if (host !== undefined && host !== "local") {
    const target = parseSshTarget(host);
    if (!target) throw new InvalidArgumentError("qemu:host", `stack config must be "local" or [ssh://][user@]address[:port], got ${JSON.stringify(host)}`);
    d.address = target.host;
    if (target.user) d.user = target.user;
    if (target.port) d.port = target.port;
  }
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError("qemu:port", `stack config must be a port from 1 to 65535, got ${JSON.stringify(values.port)}`);
    d.port = port;
  }
  for (const key of ["user", "hostKey", "knownHostsFile", "agent", "workDir"] as const) if (values[key] !== undefined) d[key] = values[key];
  return d;
}

/** The secret credentials from stack config, for a host that has none of its own. */
export function configuredCredentials(): { privateKey?: string; passphrase?: string; password?: string } {
  return Object.fromEntries(SECRET_KEYS.filter((k) => values[k] !== undefined).map((k) => [k, values[k]]));
}
