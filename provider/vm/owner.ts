/**
 * Who owns a VM's state directory on a shared host. A Vm gets a random owner token at create,
 * kept secret in its state; its state directory is named `NAME.TAG` (TAG from the token), so two
 * stacks that declare the same names in one working directory never share a directory, and it
 * holds an `owner` record: the token's digest and, for people, project, stack and resource.
 * Every operation acts only where the record is its own; another's is refused, naming it.
 * The digest, not the token, is on the host: it is an identity, not a credential (whoever can
 * read the record is the SSH user, who can act on the files anyway), and nothing secret or
 * derived from a secret goes on a command line: the record is written as a file.
 */
import { createHash, randomBytes } from "crypto";
import { OwnedByAnotherError } from "../errors";

/** Who, for people: set by the SDK from the Pulumi program (pulumi.getProject(), getStack(), the resource's name). */
export interface OwnerLabel {
  project?: string;
  stack?: string;
  resource?: string;
}

export interface OwnerRecord extends OwnerLabel {
  /** ownerId(token) of the resource that made (or claimed) the directory. */
  id: string;
  /** When it was made, ISO 8601. */
  created?: string;
  /** When its lease ends (`expiresAfter`), ISO 8601: then `pulumi-qemu gc --expired` may stop and remove it. */
  expires?: string;
}

export function newOwnerToken(): string {
  return randomBytes(32).toString("hex");
}

/** The token's digest, as the owner record keeps it (128 bits of a SHA-256; the token is 256 random bits). */
export function ownerId(token: string): string {
  return createHash("sha256").update(`pulumi-qemu owner\n${token}`).digest("hex").slice(0, 32);
}

/** The name on the host of a VM made by this release: `NAME.TAG`, TAG 8 hex digits of its owner id. */
export function ownedName(name: string, token: string): string {
  return `${name}.${ownerId(token).slice(0, 8)}`;
}

/** For messages where only the name on the host is known (a Snapshot's `vm`): the name the program gave, without TAG. */
export function programName(nameOnHost: string): string {
  return /^(.+)\.[0-9a-f]{8}$/.exec(nameOnHost)?.[1] ?? nameOnHost;
}

/** A stand-in of the same length, for checks made before the token exists (the socket path limit). */
export function ownedNameForChecks(name: string): string {
  return `${name}.00000000`;
}

/**
 * The record's text: made now (or at `created`, when an update rewrites it), its lease `leaseMs`
 * from now (renewed by every update; none without one).
 */
export function ownerRecordText(token: string, label: OwnerLabel, now = new Date(), leaseMs?: number, created?: string): string {
  const record: OwnerRecord = { id: ownerId(token), ...pickLabel(label), created: created ?? now.toISOString() };
  if (leaseMs !== undefined) record.expires = new Date(now.getTime() + leaseMs).toISOString();
  return `${JSON.stringify(record)}\n`;
}

/** A record's fields; undefined when there is none or it cannot be read. */
export function parseOwnerRecord(text: string | undefined): OwnerRecord | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  try {
    const parsed = JSON.parse(text) as OwnerRecord;
    return parsed && typeof parsed === "object" && typeof parsed.id === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function pickLabel(label: OwnerLabel): OwnerLabel {
  const out: OwnerLabel = {};
  for (const k of ["project", "stack", "resource"] as const) if (typeof label[k] === "string") out[k] = label[k];
  return out;
}

/** The owner a record names, for people: "project P, stack S, resource R". */
export function describeOwner(record: OwnerLabel | undefined): string {
  if (!record) return "an owner whose record cannot be read";
  const parts = [record.project && `project ${record.project}`, record.stack && `stack ${record.stack}`, record.resource && `resource ${record.resource}`].filter(Boolean);
  return parts.length ? parts.join(", ") : "an owner with no name recorded";
}

export type OwnerVerdict =
  | { kind: "ours" }
  /** No record: made by an earlier release; only the stack whose state recorded it claims it. */
  | { kind: "unclaimed" }
  | { kind: "other"; owner: string };

/**
 * Whose the directory is, from its record's text (undefined: no record) and the resource's token
 * (undefined: a resource an earlier release made). A record that cannot be read is another's:
 * a check that cannot decide fails closed.
 */
export function judgeOwner(recordText: string | undefined, token: string | undefined): OwnerVerdict {
  if (recordText === undefined || recordText.trim() === "") return { kind: "unclaimed" };
  const record = parseOwnerRecord(recordText);
  if (record && token !== undefined && record.id === ownerId(token)) return { kind: "ours" };
  return { kind: "other", owner: describeOwner(record) };
}

/**
 * The verdict, unless the record is another's (or unreadable): then OwnedByAnotherError,
 * "`subject` belongs to OWNER, not to this resource; `then`", before anything is touched.
 */
export function ownedOrRefused(recordText: string | undefined, token: string | undefined, subject: string, then: string): OwnerVerdict {
  const verdict = judgeOwner(recordText, token);
  if (verdict.kind === "other") throw new OwnedByAnotherError(`${subject} belongs to ${verdict.owner}, not to this resource; ${then}`, verdict.owner);
  return verdict;
}
