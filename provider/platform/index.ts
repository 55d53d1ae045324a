/**
 * What a host's platform changes above the transport, chosen here once: the host scripts a
 * resource runs (POSIX sh or Windows PowerShell, the same duties and the same answers) and what
 * the platform can do at all (a ledger, Unix sockets, records beside images, ...). Callers ask
 * `hostOps(transport)` or `hostOpsOf(connection)` and never compare the platform themselves.
 * The transport's own choices (how a command travels, file operations) are platformIo's.
 */
import { LOCAL_PLATFORM, type Endpoint, type Platform } from "../transport";
import type { HostOps } from "./types";
import { POSIX_OPS } from "./posix";
import { WINDOWS_OPS } from "./windows";

export type { ObserveTarget } from "./posixVmScripts";

export { APPEARED_EXIT, type FetchPlan, type HostOps, type VmScripts } from "./types";

const BY_PLATFORM: Record<Platform, HostOps> = { posix: POSIX_OPS, windows: WINDOWS_OPS };

export function hostOps(t: { platform: Platform }): HostOps {
  return BY_PLATFORM[t.platform];
}

/** A connection's host platform: an SSH host's declared one, or this machine's. */
export function platformOf(c: Endpoint): Platform {
  return c.kind === "ssh" ? c.platform ?? "posix" : LOCAL_PLATFORM;
}

/** The operations of a connection's host, before any transport is made (input checks). */
export function hostOpsOf(c: Endpoint): HostOps {
  return BY_PLATFORM[platformOf(c)];
}
