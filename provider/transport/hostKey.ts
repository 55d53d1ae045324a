/** Host-key verification: a pinned key (OpenSSH line or SHA256 fingerprint) or a known_hosts file. */
import { createHash, createHmac } from "crypto";
import { InvalidArgumentError } from "../errors";

/** OpenSSH's fingerprint form: SHA256: and unpadded base64 of the key blob. */
export function fingerprint(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

export interface AcceptedKey {
  /** "ssh-ed25519", ... ; undefined for a bare fingerprint. */
  type?: string;
  fingerprint: string;
}

/** Parses `hostKey`: "ssh-ed25519 AAAA... [comment]" or "SHA256:...". */
export function parsePinnedKey(hostKey: string, property = "hostKey"): AcceptedKey {
  const text = hostKey.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(text)) return { fingerprint: text.replace(/=$/, "") };
  const [type, base64] = text.split(/\s+/);
  if (type && base64 && /^(ssh-|ecdsa-|sk-)/.test(type)) {
    const blob = Buffer.from(base64, "base64");
    // The blob starts with its own type name; a mismatch means a damaged or mixed-up line.
    const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (nameLength > 0 && blob.subarray(4, 4 + nameLength).toString() === type) {
      return { type, fingerprint: fingerprint(blob) };
    }
  }
  throw new InvalidArgumentError(property,
    'must be an OpenSSH public key line ("ssh-ed25519 AAAA...") or a fingerprint ("SHA256:..." as ssh-keygen -lf prints)');
}

function hostPatterns(host: string, port: number): string[] {
  return port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
}

function hashedEntryMatches(entry: string, candidates: string[]): boolean {
  const [, , salt64, hash64] = entry.split("|");
  if (!salt64 || !hash64) return false;
  const salt = Buffer.from(salt64, "base64");
  return candidates.some((c) => createHmac("sha1", salt).update(c).digest("base64") === hash64);
}

/**
 * OpenSSH's pattern: `*` any run, `?` one character. Matched without a regular expression, in
 * at most pattern x text steps: a known_hosts file is text others may write, and `*a*a*a...`
 * as a backtracking regex takes exponential time.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

function hostFieldMatches(field: string, candidates: string[]): boolean {
  if (field.startsWith("|1|")) return hashedEntryMatches(field, candidates);
  let matched = false;
  for (const pattern of field.split(",")) {
    const negated = pattern.startsWith("!");
    const glob = negated ? pattern.slice(1) : pattern;
    if (candidates.some((c) => globMatch(glob, c))) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Keys that known_hosts text accepts for host:port; revoked keys are returned apart. */
export function knownHostsKeys(text: string, host: string, port: number): { accepted: AcceptedKey[]; revoked: string[] } {
  const candidates = hostPatterns(host, port);
  const accepted: AcceptedKey[] = [];
  const revoked: string[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0].startsWith("@") ? fields.shift() : undefined;
    if (marker === "@cert-authority" || fields.length < 3) continue; // certificates are not supported
    if (!hostFieldMatches(fields[0], candidates)) continue;
    let key: AcceptedKey;
    try {
      key = parsePinnedKey(`${fields[1]} ${fields[2]}`);
    } catch {
      continue; // a line we cannot read does not vouch for anything
    }
    if (marker === "@revoked") revoked.push(key.fingerprint);
    else accepted.push(key);
  }
  return { accepted, revoked };
}
