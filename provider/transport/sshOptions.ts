/** What it takes to reach a host over SSH, and its validation (property names in every error). */
import { InvalidArgumentError } from "../errors";
import { booleanInput, integerIn, oneOf } from "../validate";
import { parsePinnedKey } from "./hostKey";
import { PLATFORMS, type Platform } from "./types";

export interface SshHop {
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  /** Private key text (OpenSSH or PEM). */
  privateKey?: string;
  passphrase?: string;
  password?: string;
  /** Path of an SSH agent socket (usually $SSH_AUTH_SOCK). */
  agent?: string;
  /** The host's key: an OpenSSH public key line, or its "SHA256:..." fingerprint. */
  hostKey?: string;
  /** An OpenSSH known_hosts file that lists the host. */
  knownHostsFile?: string;
  /** Accepts whatever key the host presents. Only for throwaway hosts: a man in the middle goes unnoticed. */
  insecureAcceptAnyHostKey?: boolean;
}

export interface SshOptions extends SshHop {
  /** How the host runs commands: "posix" (sh; Linux, macOS, BSD; the default) or "windows" (PowerShell). */
  platform?: Platform;
  /** Hosts to hop through, in order, before reaching `host`. */
  jumpHosts?: SshHop[];
  /** Bound on reaching the host, all retries included. Default 10000. */
  connectTimeoutMs?: number;
  /** How often an idle connection is probed (keepalive), in milliseconds. Default 15000. */
  keepaliveIntervalMs?: number;
  /** Connection attempts after the first. Default 2. */
  retries?: number;
  /** Concurrent channels on the connection; must stay below sshd's MaxSessions (10 by default). Default 8. */
  maxChannels?: number;
  /** An idle pooled connection is closed after this long. Default 5000. */
  idleCloseMs?: number;
}

function positiveInt(value: unknown, property: string, max = Number.MAX_SAFE_INTEGER): void {
  if (value !== undefined) integerIn(value, property, 0, max);
}

export function validateHop(hop: SshHop, prefix: string): void {
  if (!hop.host || typeof hop.host !== "string") throw new InvalidArgumentError(`${prefix}host`, "is required");
  if (!hop.user || typeof hop.user !== "string") throw new InvalidArgumentError(`${prefix}user`, "is required");
  positiveInt(hop.port, `${prefix}port`, 65535);
  if (hop.port === 0) throw new InvalidArgumentError(`${prefix}port`, "must be from 1 to 65535");
  if (!hop.privateKey && !hop.password && !hop.agent) {
    throw new InvalidArgumentError(`${prefix}privateKey`, "one of privateKey, password or agent is required to log in");
  }
  // Verification is off only for exactly `true`: a string "false" or a 1 must not turn it off.
  booleanInput(hop.insecureAcceptAnyHostKey, `${prefix}insecureAcceptAnyHostKey`);
  const verifications = [hop.hostKey, hop.knownHostsFile, hop.insecureAcceptAnyHostKey === true ? true : undefined]
    .filter((v) => v !== undefined);
  if (verifications.length === 0) {
    throw new InvalidArgumentError(`${prefix}hostKey`,
      "host-key verification is on: give hostKey or knownHostsFile (or insecureAcceptAnyHostKey: true for a throwaway host)");
  }
  if (verifications.length > 1) {
    throw new InvalidArgumentError(`${prefix}hostKey`, "give only one of hostKey, knownHostsFile, insecureAcceptAnyHostKey");
  }
  if (hop.hostKey !== undefined) parsePinnedKey(hop.hostKey, `${prefix}hostKey`);
}

export function validateSshOptions(options: SshOptions): void {
  validateHop(options, "");
  (options.jumpHosts ?? []).forEach((hop, i) => validateHop(hop, `jumpHosts[${i}].`));
  positiveInt(options.connectTimeoutMs, "connectTimeoutMs");
  positiveInt(options.keepaliveIntervalMs, "keepaliveIntervalMs");
  positiveInt(options.retries, "retries", 10);
  positiveInt(options.maxChannels, "maxChannels", 64);
  if (options.maxChannels === 0) throw new InvalidArgumentError("maxChannels", "must be at least 1");
  positiveInt(options.idleCloseMs, "idleCloseMs");
  if (options.platform !== undefined) oneOf(options.platform, "platform", PLATFORMS);
}

export function describeHop(hop: SshHop): string {
  return `${hop.user}@${hop.host}:${hop.port ?? 22}`;
}

/** "[ssh://][user@]address[:port]" (an IPv6 address in brackets): the one reader of such text; undefined when it is not one. */
export function parseSshTarget(text: string): { user?: string; host: string; port?: number } | undefined {
  const m = /^(?:ssh:\/\/)?(?:([^@/\s]+)@)?(\[[0-9a-fA-F:]+\]|[^:@/\s[\]]+)(?::(\d{1,5}))?\/?$/.exec(text);
  if (!m) return undefined;
  return { ...(m[1] ? { user: m[1] } : {}), host: m[2].replace(/^\[|\]$/g, ""), ...(m[3] ? { port: Number(m[3]) } : {}) };
}
