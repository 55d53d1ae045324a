/** Validation of values that reach a host's shell or file system; every error names the property. */
import { InvalidArgumentError } from "./errors";

/** Names become file and directory names on the host and QEMU's `-name guest=`. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Names Windows maps to devices in every directory, with any extension ("nul.qcow2" too). */
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(\.|$)/i;

/** A name that becomes a file or directory name on a Windows host. */
export function windowsFileName(value: string, property: string): string {
  if (WINDOWS_DEVICE_NAME.test(value)) {
    throw new InvalidArgumentError(property, `${JSON.stringify(value)} is a device name on Windows hosts (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension): choose another`);
  }
  return value;
}

export function safeName(value: unknown, property: string): string {
  if (typeof value !== "string" || !SAFE_NAME.test(value) || value.includes("..")) {
    throw new InvalidArgumentError(property,
      `must be 1-63 characters of letters, digits, '.', '_' and '-', starting with a letter or digit, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A Host's memory overcommit ratio: how much of its memory the VMs of all stacks may take together (1.5: 150%). */
export function memoryOvercommit(value: unknown, property: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0.1 || value > 10) {
    throw new InvalidArgumentError(property, `must be a number from 0.1 to 10 (1 lets the VMs take all of the host's memory, 1.5 half as much again), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A name on a host that may carry an owner's TAG (`NAME.TAG`, provider/vm/owner.ts): NAME as safeName takes it. */
export function safeHostName(value: unknown, property: string): string {
  const m = typeof value === "string" ? /^(.+)\.[0-9a-f]{8}$/.exec(value) : null;
  safeName(m ? m[1] : value, property);
  return value as string;
}

/**
 * An absolute path with no '..' component and no control characters: POSIX ("/srv/vms") or a
 * Windows drive path ("C:/VMs" or "C:\\VMs"; both separators work on Windows).
 */
export function absolutePath(value: unknown, property: string): string {
  if (typeof value !== "string" || !(value.startsWith("/") || /^[A-Za-z]:[\\/]/.test(value))) {
    throw new InvalidArgumentError(property, `must be an absolute path (/... or, on Windows, C:/...), got ${JSON.stringify(value)}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new InvalidArgumentError(property, "must not contain control characters");
  if (value.split(/[\\/]/).includes("..")) throw new InvalidArgumentError(property, "must not contain '..' components");
  if (value.length > 4000) throw new InvalidArgumentError(property, "is longer than 4000 characters");
  return value;
}

export function integerIn(value: unknown, property: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(property, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, property: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(property, `must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

const SIZE_UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "10G", "512M", "1.5G", 1073741824 -> bytes (binary units, as qemu-img reads them). */
export function sizeBytes(value: unknown, property: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  const m = typeof value === "string" ? /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim()) : null;
  const bytes = m ? Math.round(Number(m[1]) * SIZE_UNITS[m[2].toUpperCase()]) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new InvalidArgumentError(property, `must be a positive size such as "10G", "512M" or a number of bytes, got ${JSON.stringify(value)}`);
  }
  return bytes;
}

/** Runs f; an InvalidArgumentError goes into `errors` (so all failures are reported together). */
export function collectInvalid<T>(errors: InvalidArgumentError[], f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof InvalidArgumentError) errors.push(e);
    else throw e;
    return undefined;
  }
}

/** A switch: absent, true or false. "false" (a string, as config gives it) or 1 is refused, never read as true. */
export function booleanInput(value: unknown, property: string): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") throw new InvalidArgumentError(property, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** A QEMU snapshot tag: starts with a letter, so that QEMU never reads it as a numeric snapshot ID. */
export function snapshotTag(value: unknown, property: string): string {
  if (typeof value !== "string" || !/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/.test(value)) {
    throw new InvalidArgumentError(property, `must be 1-63 characters of letters, digits, '.', '_' and '-', starting with a letter (QEMU reads a number as a snapshot ID), got ${JSON.stringify(value)}`);
  }
  return value;
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60000, h: 3600000, d: 86400000 };

/** A duration such as "45s", "30m", "2h", "1d" or "1h30m", in milliseconds (at least a second, at most a year). */
export function durationMs(value: unknown, property: string): number {
  const text = typeof value === "string" ? value.trim() : "";
  if (!/^(\d+[smhd])+$/.test(text)) throw new InvalidArgumentError(property, `must be a duration such as "30m", "2h" or "1h30m" (units s, m, h, d), got ${JSON.stringify(value)}`);
  const ms = [...text.matchAll(/(\d+)([smhd])/g)].reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_UNITS[unit], 0);
  if (ms < 1000 || ms > 366 * DURATION_UNITS.d) throw new InvalidArgumentError(property, `must be between 1s and 366d, got ${JSON.stringify(value)}`);
  return ms;
}
