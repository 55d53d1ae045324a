/** A resource's `host` input: validation and the identity that decides replacement. */
import { sameData } from "../canonical";
import type { Connection } from "../transport";
import { containsUnknown } from "./types";

/** Which machine and directory: what must stay the same for a resource to be updated in place. */
export function connectionIdentity(c: Connection): string {
  const where = c.kind === "ssh" ? `ssh://${c.user}@${c.host}:${c.port ?? 22}` : "local";
  return `${where}${c.workDir}`;
}

/**
 * The same machine and directory reached another way (a rotated key, a new host key, another
 * agent): an in-place update that records the new connection, so that later reads and deletes
 * use it. Nothing on the host changes. Not judged while the new connection is unknown (preview).
 */
export function credentialsChanged(olds: Connection, news: Connection): boolean {
  return !containsUnknown(news) && connectionIdentity(olds) === connectionIdentity(news) && !sameData(olds, news);
}

/** How a diff sees the new `host`: the connection to judge the rest with, and what changed. */
export interface HostInDiff {
  host: Connection;
  /** Another machine or directory, or one that cannot be told yet: the resource is replaced. */
  replaced: boolean;
  /** The same machine and directory reached another way: an in-place update. */
  credentials: boolean;
}

/**
 * While a Host is updated in place (new credentials, in a preview) its connection is unknown, but
 * its id is known and is its identity: the SDK passes it as `hostId`. The same identity as the
 * recorded one is the same machine and directory, so the recorded connection stands in for
 * judging the rest, and the update is one of credentials. Without a known id, unknown is replace.
 */
export function hostInDiff(olds: Connection, news: Connection, hostId: unknown): HostInDiff {
  if (!containsUnknown(news)) {
    return { host: news, replaced: connectionIdentity(olds) !== connectionIdentity(news), credentials: credentialsChanged(olds, news) };
  }
  const sameHost = typeof hostId === "string" && !containsUnknown(hostId) && hostId === connectionIdentity(olds);
  return sameHost ? { host: olds, replaced: false, credentials: true } : { host: news, replaced: true, credentials: false };
}
