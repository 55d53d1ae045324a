/** Errors of the core. Each has a stable `code`; command failures carry argv, exit code and stderr tail. */

export type ErrorCode =
  | "COMMAND_FAILED"
  | "CONNECT_FAILED"
  | "CONNECT_TIMEOUT"
  | "AUTH_FAILED"
  | "HOST_KEY_MISMATCH"
  | "HOST_KEY_UNKNOWN"
  | "INVALID_ARGUMENT"
  | "TRANSPORT_CLOSED"
  | "TIMEOUT"
  | "GUEST_STOPPED"
  | "GUEST_PANICKED"
  | "CLOUD_INIT_FAILED"
  | "OWNED_BY_ANOTHER"
  /** A running VM or a clone uses it: a delete, resize, revert or stop is refused. */
  | "IN_USE"
  /** Something of the same name or path is there already and is not overwritten. */
  | "ALREADY_EXISTS"
  /** What the resource records is gone from the host (refresh to recreate), or was never there. */
  | "NOT_FOUND"
  /** The host cannot do this (no usable accelerator, no firmware, a feature its platform lacks). */
  | "UNSUPPORTED"
  /** Another operation changed the same thing meanwhile (a VM running with another spec, an upload that met another). */
  | "CONFLICT"
  /** The host lacks a program the operation needs (QEMU, curl or wget, a decompressor); the message names it. */
  | "MISSING_TOOL";

export class QemuError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

const STDERR_TAIL_CHARS = 2000;

export function tail(text: string, chars = STDERR_TAIL_CHARS): string {
  return text.length <= chars ? text : "..." + text.slice(text.length - chars);
}

/** A remote or local program ended with a non-zero exit code or a signal. */
export class CommandError extends QemuError {
  readonly argv: string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;
  constructor(where: string, argv: string[], exitCode: number | null, signal: string | null, stderr: string) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const stderrTail = tail(stderr.trim());
    super("COMMAND_FAILED", `${where}: \`${argv.join(" ")}\` ${how}${stderrTail ? `: ${stderrTail}` : ""}`);
    this.argv = argv;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}

/**
 * Returns the result of a program that exited 0, else throws CommandError. `shown` stands for
 * argv in the message where argv is a long script.
 */
export function expectSuccess<R extends { exitCode: number | null; signal: string | null; stderr: string }>(
  where: string, argv: string[], result: R, shown: string[] = argv): R {
  if (result.exitCode !== 0) throw new CommandError(where, shown, result.exitCode, result.signal, result.stderr);
  return result;
}

/** Reaching a host failed: connection, authentication, host key or a dropped link. */
export class TransportError extends QemuError {
  readonly host: string;
  constructor(code: ErrorCode, host: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.host = host;
  }
}

/** The host presented a key that is not the pinned or known one. Never retried. */
export class HostKeyError extends TransportError {
  readonly expected: string[];
  readonly actual: string;
  constructor(code: "HOST_KEY_MISMATCH" | "HOST_KEY_UNKNOWN", host: string, expected: string[], actual: string) {
    const message = code === "HOST_KEY_MISMATCH"
      ? `host key of ${host} does not match: expected ${expected.join(" or ")}, got ${actual}. ` +
        `If the host was reinstalled, update the pinned key; otherwise someone may be intercepting the connection.`
      : `host key of ${host} is unknown (got ${actual}): pin it with hostKey, list it in knownHostsFile, ` +
        `or set insecureAcceptAnyHostKey to skip verification.`;
    super(code, host, message);
    this.expected = expected;
    this.actual = actual;
  }
}

/** Bad input, rejected before anything touches a host. `property` names the input. */
export class InvalidArgumentError extends QemuError {
  readonly property: string;
  readonly reason: string;
  constructor(property: string, reason: string) {
    super("INVALID_ARGUMENT", `${property}: ${reason}`);
    this.property = property;
    this.reason = reason;
  }
}

/** An object on a host belongs to another owner (another stack, or another resource): nothing of it was touched. */
export class OwnedByAnotherError extends QemuError {
  /** Who owns it, for people: project, stack and resource, as its owner record says. */
  readonly owner: string;
  constructor(message: string, owner: string) {
    super("OWNED_BY_ANOTHER", message);
    this.owner = owner;
  }
}

/** QEMU exited instead of starting a VM; `qemuSaid` is its own words (no register dump). */
export class QemuStartError extends QemuError {
  readonly qemuSaid: string;
  constructor(message: string, qemuSaid: string) {
    super("COMMAND_FAILED", message);
    this.qemuSaid = qemuSaid;
  }
}

/**
 * The guest stopped in a run state it cannot leave by itself (internal-error, guest-panicked)
 * while its QEMU lives on: under an accelerator that cannot run it, or a guest that panicked.
 */
export class GuestStoppedError extends QemuError {
  readonly runState: string;
  readonly qemuSaid: string;
  constructor(message: string, runState: string, qemuSaid: string) {
    super("GUEST_STOPPED", message);
    this.runState = runState;
    this.qemuSaid = qemuSaid;
  }
}

/**
 * The guest's kernel said on its serial console that it panicked before it was ready (Linux's
 * "Kernel panic - not syncing"; without a pvpanic device QEMU never learns it, and the guest
 * spins until the wait would run out). Not proof against the accelerator: an emulated guest on
 * a loaded host can fail its timer check, so it is judged like a readiness timeout.
 */
export class GuestPanicError extends QemuError {
  readonly panic: string;
  constructor(message: string, panic: string) {
    super("GUEST_PANICKED", message);
    this.panic = panic;
  }
}

/** cloud-init reported a problem on the guest's console before it finished (readiness.cloudInit): `report` is its words. */
export class CloudInitError extends QemuError {
  readonly report: string;
  constructor(message: string, report: string) {
    super("CLOUD_INIT_FAILED", message);
    this.report = report;
  }
}

/** A VM's readiness wait ran out: `missing` says what was not seen (serial pattern, guest port). */
export class NotReadyError extends QemuError {
  readonly missing: string;
  readonly timeoutMs: number;
  constructor(message: string, missing: string, timeoutMs: number) {
    super("TIMEOUT", message);
    this.missing = missing;
    this.timeoutMs = timeoutMs;
  }
}
