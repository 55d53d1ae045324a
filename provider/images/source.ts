/**
 * An image published at a URL with its digest, as a Pulumi program declares it: checked here
 * (pure, table-tested), named in the host's cache by that digest, and fetched by
 * provider/scripts/image-fetch.sh (image-fetch.ps1 on Windows; see provider/platform).
 */
import { InvalidArgumentError } from "../errors";

export const COMPRESSIONS = ["none", "gz", "xz", "zst", "bz2"] as const;
export type Compression = (typeof COMPRESSIONS)[number];
export const DIGESTS = ["sha256", "sha512"] as const;
export type DigestAlgorithm = (typeof DIGESTS)[number];
export const VIAS = ["host", "client"] as const;
export type Via = (typeof VIAS)[number];

/** How an image is declared. */
export interface ImageSource {
  url: string;
  sha256?: string;
  sha512?: string;
  /** The image's format once decompressed. Default "qcow2". */
  format?: "qcow2" | "raw";
  /** Default: from the URL's ending (.gz, .xz, .zst, .bz2), else none. */
  compression?: Compression;
  /** A PEM certificate the HTTPS server's chain must lead to (a private mirror's CA). */
  caCertificate?: string;
  /** Who downloads: the host itself (default) or the machine running Pulumi, which streams it to the host. */
  via?: Via;
  /** How long the download may take, in milliseconds. Default an hour. */
  timeoutMs?: number;
}

export const FETCH_TIMEOUT_MS = 3600000;
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** The declared digest: exactly one of sha256 and sha512, as lowercase hex of the right length. */
export function declaredDigest(source: Pick<ImageSource, "sha256" | "sha512">, prefix = ""): { algorithm: DigestAlgorithm; hex: string } {
  const given = DIGESTS.filter((a) => source[a] !== undefined);
  if (given.length !== 1) throw new InvalidArgumentError(`${prefix}sha256`, "give exactly one of sha256 and sha512 (the digest the publisher lists for the file at url)");
  const algorithm = given[0];
  const value = source[algorithm];
  const hex = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (!new RegExp(`^[0-9a-f]{${HEX_LENGTH[algorithm]}}$`).test(hex)) {
    throw new InvalidArgumentError(`${prefix}${algorithm}`, `must be ${HEX_LENGTH[algorithm]} hexadecimal digits`);
  }
  return { algorithm, hex };
}

/** An http or https URL with a host and no credentials in it (they would reach state and the host's command line). */
export function imageUrl(value: unknown, property = "url"): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new InvalidArgumentError(property, `${JSON.stringify(value)} is not a URL`);
  }
  if (typeof value !== "string" || !/^https?:$/.test(url.protocol)) throw new InvalidArgumentError(property, "must be an http:// or https:// URL");
  if (url.username || url.password) throw new InvalidArgumentError(property, "must not hold credentials (they would be stored in the state and shown on the host's command line)");
  if (/[\s\x00-\x1f]/.test(value)) throw new InvalidArgumentError(property, "must not hold spaces or control characters");
  return url;
}

/** The compression a published file's name says, as distributions name them. */
export function compressionOf(url: URL): Compression {
  const name = url.pathname.toLowerCase();
  if (name.endsWith(".gz")) return "gz";
  if (name.endsWith(".xz")) return "xz";
  if (name.endsWith(".zst")) return "zst";
  if (name.endsWith(".bz2")) return "bz2";
  return "none";
}

/** The cache entry's file name: the published file's digest, and the format QEMU opens it with. */
export function cacheEntryName(algorithm: DigestAlgorithm, hex: string, format: string): string {
  return `${algorithm}-${hex}.${format}`;
}
