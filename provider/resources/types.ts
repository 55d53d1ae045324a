/**
 * The shapes a dynamic provider's methods return, declared here so that the core stays free of
 * @pulumi/pulumi; they match pulumi.dynamic's CheckResult, DiffResult, CreateResult, ReadResult.
 */
import { InvalidArgumentError } from "../errors";

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckResult<T> {
  inputs?: T;
  failures?: CheckFailure[];
}

export interface DiffResult {
  changes: boolean;
  replaces?: string[];
  stables?: string[];
  deleteBeforeReplace?: boolean;
}

export interface CreateResult<T> {
  id: string;
  outs: T;
}

export interface ReadResult<T> {
  id?: string;
  props?: T;
}

/** How the engine hands an input not yet known (during preview) to a dynamic provider. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the value, or anything inside it, is not known yet. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** A validation and the input properties it reads: it is skipped while any of them is unknown. */
export type Validation = [properties: unknown[], validate: () => void];

/** Runs each validation; every InvalidArgumentError becomes one failure, other errors propagate. */
export function collectFailures(validations: Validation[]): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const [reads, validate] of validations) {
    if (reads.some(containsUnknown)) continue;
    try {
      validate();
    } catch (e) {
      if (!(e instanceof InvalidArgumentError)) throw e;
      failures.push({ property: e.property, reason: e.reason });
    }
  }
  return failures;
}

/** Throws the first failure as an error, for methods the engine may call without check (read, delete). */
export function throwFailures(failures: CheckFailure[]): void {
  if (failures.length > 0) throw new InvalidArgumentError(failures[0].property, failures[0].reason);
}

/** Drops undefined members: the engine's protobuf Struct refuses them ("Unexpected struct type"). */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The serialized provider the state recorded is not the program's (an older release named its
 * files by absolute path): a change, so that an in-place update records the program's. Refresh
 * and delete run the recorded one, and only the program's works from any checkout.
 */
export function recordedProviderChanged(olds: object, news: object): boolean {
  const before = (olds as Record<string, unknown>).__provider;
  const after = (news as Record<string, unknown>).__provider;
  return typeof before === "string" && typeof after === "string" && before !== after;
}
