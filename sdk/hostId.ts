/**
 * Which Host made a `connection` Output. While a Host is updated in place (new credentials), its
 * connection is unknown in a preview but its id, which is its identity (machine and directory),
 * is not: a dependent passes that id beside the connection, so that its preview shows an in-place
 * update instead of a replace. A connection built by hand, or through `apply`, has no Host here:
 * its dependents keep the cautious answer (unknown is a replace).
 */
import type * as pulumi from "@pulumi/pulumi";

const owners = new WeakMap<object, pulumi.CustomResource>();

export function recordConnectionOwner(host: pulumi.CustomResource, connection: object): void {
  owners.set(connection, host);
}

/** `{ hostId }` when `host` is a Host's own `connection` output, else nothing. */
export function hostIdOf(host: unknown): { hostId?: pulumi.Output<string> } {
  const owner = host && typeof host === "object" ? owners.get(host) : undefined;
  return owner ? { hostId: owner.id } : {};
}

const placements = new WeakMap<object, unknown>();

/** Remembers the `host` a Vm or Disk was declared on, for resources of it (a Snapshot). */
export function recordPlacement(resource: pulumi.CustomResource, host: unknown): void {
  placements.set(resource, host);
}

/** The `host` (and its Host's id) a Vm or Disk was declared with. */
export function placementOf(resource: pulumi.CustomResource): { host: unknown; hostId?: pulumi.Output<string> } {
  const host = placements.get(resource);
  return { host, ...hostIdOf(host) };
}
