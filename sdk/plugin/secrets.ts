/**
 * Secrets on the provider protocol: with `acceptSecrets`, the engine hands a secret as an object
 * marked with Pulumi's signature key, and takes one back the same way. The resource code works
 * on plain values; the plugin takes the marks off on the way in and puts them back on the way
 * out, on every property that came in secret and on every property the schema says is.
 */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === SECRET;
}

/** The value without secret marks, and whether it held one anywhere. */
export function reveal(value: unknown): { plain: unknown; secret: boolean } {
  if (isSecret(value)) return { plain: reveal(value.value).plain, secret: true };
  if (Array.isArray(value)) {
    const items = value.map(reveal);
    return { plain: items.map((i) => i.plain), secret: items.some((i) => i.secret) };
  }
  if (typeof value === "object" && value !== null) {
    let secret = false;
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = reveal(v);
      plain[k] = r.plain;
      secret ||= r.secret;
    }
    return { plain, secret };
  }
  return { plain: value, secret: false };
}

/** Properties without marks, and the names of those that held a secret. */
export function revealProps(props: Record<string, unknown> | undefined): { plain: Record<string, unknown>; secretKeys: string[] } {
  const plain: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(props ?? {})) {
    const r = reveal(v);
    plain[k] = r.plain;
    if (r.secret) secretKeys.push(k);
  }
  return { plain, secretKeys };
}

/** Marks each named property that is present (and defined) as a secret. */
export function concealProps<T extends object>(props: T, keys: Iterable<string>): T {
  const out: Record<string, unknown> = { ...(props as Record<string, unknown>) };
  for (const k of keys) if (out[k] !== undefined && out[k] !== null && !isSecret(out[k])) out[k] = { [SIG]: SECRET, value: out[k] };
  return out as T;
}
