/**
 * What a resource class of the TypeScript SDK adds to a program's inputs before they reach the
 * provider, done by the plugin for a resource a program of another language declared: the
 * default `name` (the resource's), and the `owner` record (project, stack, resource) that the
 * host's owner files name. Inputs that already have them (a Fleet's children) are kept.
 */
import type { UrnParts } from "./urn";

/** Types whose provider reads `name` (default: the resource's name) and `owner`. */
const DEFAULTS: Record<string, { name?: true; owner?: true }> = {
  Vm: { name: true, owner: true },
  Disk: { name: true, owner: true },
  Network: { name: true, owner: true },
  Snapshot: { name: true },
  Image: { owner: true },
  WarmState: { owner: true },
};

export function completeInputs(urn: UrnParts, news: Record<string, unknown>): Record<string, unknown> {
  const wants = DEFAULTS[urn.type.replace(/^qemu:index:/, "")] ?? {};
  const out = { ...news };
  if (wants.name && (out.name === undefined || out.name === null)) out.name = urn.name;
  if (wants.owner && out.owner === undefined) out.owner = { project: urn.project, stack: urn.stack, resource: urn.name };
  return out;
}
