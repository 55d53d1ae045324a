/**
 * Image: a published disk image (a URL and its digest) in the host's cache, named by that digest
 * and shared by every stack, fleet and clone of the working directory: fetched once however many
 * ask, checked before anything uses it, never a half file at its path. Its `path` is the base of
 * Disks' linked clones (`backingImage`). Delete forgets this stack's use; the cached file stays
 * for the next user, and `pulumi-qemu gc --images` removes it once nothing uses it.
 */
import { createHash } from "crypto";
import { InvalidArgumentError, QemuError, tail } from "../errors";
import { sameData } from "../canonical";
import { EXIT, makeDirectory, pathExists, platformIo, transportFor, validateConnection, type Connection, type Transport } from "../transport";
import { HEADER_BYTES, isQcow, referencesReason } from "../qemu/imageHeader";
import { booleanInput, integerIn, oneOf } from "../validate";
import { downloadOnClient } from "../images/clientFetch";
import { hostOps } from "../platform";
import { cacheEntryName, COMPRESSIONS, compressionOf, declaredDigest, FETCH_TIMEOUT_MS, imageUrl, VIAS, type DigestAlgorithm, type ImageSource } from "../images/source";
import { imageCacheDir } from "../layout";
import { meteredLocalFile } from "../localFile";
import { newOwnerToken, type OwnerLabel } from "../vm/owner";
import { claimDisk, releaseDisk, sharedOwnersDir, sharedOwnersOf } from "../disks/owner";
import { info, reasonToKeep } from "../disks/images";
import { cloneRecordDir } from "../disks/scripts";
import { connectionIdentity, hostInDiff } from "./connection";
import { mib, progress } from "../progress";
import { collectFailures, containsUnknown, plain, recordedProviderChanged, throwFailures, type CheckResult, type CreateResult, type DiffResult, type ReadResult, type Validation } from "./types";

export interface ImageInputs extends ImageSource {
  host: Connection;
  hostId?: string;
  /** Use an image whose header names a backing or external data file (refused by default: the guest would get that file on the host). */
  allowExternalFiles?: boolean;
  /** This Image's use of the cache entry, recorded beside it; made at create, secret in state. */
  ownerToken?: string;
  owner?: OwnerLabel;
}

export interface ImageOutputs extends ImageInputs {
  path: string;
  format: "qcow2" | "raw";
  virtualSizeBytes: number;
  actualSizeBytes: number;
  /** How create found it: "cache" (already on the host), "host" (the host downloaded it) or "client" (streamed from the machine running Pulumi). */
  fetchedBy: "cache" | "host" | "client";
}

function validations(inputs: ImageInputs): Validation[] {
  return [
    [[inputs.host], () => {
      validateConnection(inputs.host, "host");
    }],
    [[inputs.url], () => void imageUrl(inputs.url)],
    [[inputs.sha256, inputs.sha512], () => void declaredDigest(inputs)],
    [[inputs.format], () => void (inputs.format !== undefined && oneOf(inputs.format, "format", ["qcow2", "raw"] as const))],
    [[inputs.compression], () => void (inputs.compression !== undefined && oneOf(inputs.compression, "compression", COMPRESSIONS))],
    [[inputs.via], () => void (inputs.via !== undefined && oneOf(inputs.via, "via", VIAS))],
    [[inputs.timeoutMs], () => void (inputs.timeoutMs !== undefined && integerIn(inputs.timeoutMs, "timeoutMs", 1000, 7 * 24 * 3600000))],
    [[inputs.allowExternalFiles], () => void booleanInput(inputs.allowExternalFiles, "allowExternalFiles")],
    [[inputs.caCertificate], () => {
      if (inputs.caCertificate === undefined) return;
      if (typeof inputs.caCertificate !== "string" || !/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(inputs.caCertificate)) {
        throw new InvalidArgumentError("caCertificate", "must be a PEM certificate (-----BEGIN CERTIFICATE----- ...)");
      }
    }],
  ];
}

/** A validated declaration's digest and where its entry is in the working directory's image cache. */
interface Place {
  algorithm: DigestAlgorithm;
  hex: string;
  cacheDir: string;
  /** The entry's file name: the declared digest and format. */
  entry: string;
  path: string;
}

function placeOf(inputs: ImageInputs): Place {
  const { algorithm, hex } = declaredDigest(inputs);
  const cacheDir = imageCacheDir(inputs.host.workDir);
  const entry = cacheEntryName(algorithm, hex, inputs.format ?? "qcow2");
  return { algorithm, hex, cacheDir, entry, path: `${cacheDir}/${entry}` };
}

/** What a create fetches: the place and the parsed URL, resolved once. */
type Fetch = Place & { url: URL };

export async function check(_olds: Partial<ImageInputs> | undefined, news: ImageInputs): Promise<CheckResult<ImageInputs>> {
  const failures = collectFailures(validations(news));
  return failures.length ? { failures } : { inputs: news };
}

export async function diff(_id: string, olds: ImageOutputs, given: ImageInputs): Promise<DiffResult> {
  const host = hostInDiff(olds.host, given.host, given.hostId);
  const news = { ...given, host: host.host };
  const unknown = [news.host, news.sha256, news.sha512, news.format].some(containsUnknown);
  const replaces = [host.replaced ? "host" : "", unknown || placeOf(news).path !== olds.path ? "path" : ""].filter(Boolean);
  // The URL, the way it is fetched and the time it may take change nothing on the host: the bytes are the digest's.
  const same = (k: keyof ImageInputs) => sameData(news[k] ?? null, olds[k] ?? null);
  const changes = replaces.length > 0 || host.credentials || !(["url", "via", "caCertificate", "timeoutMs", "compression", "allowExternalFiles"] as const).every(same);
  return { changes: changes || recordedProviderChanged(olds, news), replaces };
}

/** Reports how far a host's download got every few seconds, until `done` settles. */
async function reportHostProgress(t: Transport, part: string, url: string, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.finally(() => { finished = true; }).catch(() => undefined);
  while (!finished) {
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    if (finished) return;
    const r = await t.exec(platformIo(t.platform).size(part)).catch(() => undefined);
    if (r && r.exitCode === 0) progress(`Image ${url}: ${t.description} has downloaded ${mib(Number(r.stdout.trim()) || 0)} MiB`);
  }
}

/** The machine running Pulumi downloads and checks the file, then streams it to the entry's `.part` on the host. */
async function sendFromClient(t: Transport, inputs: ImageInputs, place: Fetch): Promise<void> {
  let last = 0;
  const got = await downloadOnClient(place.url, place.algorithm, place.hex, {
    ca: inputs.caCertificate, timeoutMs: inputs.timeoutMs ?? FETCH_TIMEOUT_MS,
    onBytes: (n, total) => {
      if (Date.now() - last < 5000) return;
      last = Date.now();
      progress(`Image ${inputs.url}: downloaded ${mib(n)}${total ? ` of ${mib(total)}` : ""} MiB on the machine running Pulumi`);
    },
  });
  try {
    progress(`Image ${inputs.url}: sending ${mib(got.bytes)} MiB to ${t.description}`);
    await t.writeFile(`${place.cacheDir}/.${place.entry}.part`, meteredLocalFile(got.file, () => undefined), { mode: 0o600, timeoutMs: inputs.timeoutMs ?? FETCH_TIMEOUT_MS });
  } finally {
    got.dispose();
  }
}

/** Runs the fetch on the host; resolves when the entry is cached or `.ready`, throws the reason otherwise. */
async function fetchOnHost(t: Transport, inputs: ImageInputs, place: Fetch): Promise<{ state: "cached" | "ready"; fetched: boolean }> {
  const { algorithm, hex, url, cacheDir, entry } = place;
  const timeoutMs = inputs.timeoutMs ?? FETCH_TIMEOUT_MS;
  let caFile: string | undefined;
  if (inputs.caCertificate) {
    caFile = `${cacheDir}/.ca-${createHash("sha256").update(inputs.caCertificate).digest("hex").slice(0, 16)}.pem`;
    await t.writeFile(caFile, inputs.caCertificate, { mode: 0o600 });
  }
  const argv = hostOps(t).imageFetch({ cacheDir, entry, algorithm, hex, compression: inputs.compression ?? compressionOf(url), timeoutMs, caFile, via: inputs.via ?? "host" });
  const run = t.exec(argv, { stdin: `${url.href}\n`, timeoutMs: 2 * timeoutMs + 120000 });
  await reportHostProgress(t, `${cacheDir}/.${entry}.part`, url.href, run);
  const r = await run;
  const said = tail(r.stderr.trim(), 600);
  const where = `${t.description}: fetching ${url.href}`;
  switch (r.exitCode) {
    case 0: return { state: /^state=cached$/m.test(r.stdout) ? "cached" : "ready", fetched: /^fetched=1$/m.test(r.stdout) };
    case EXIT.DIGEST_MISMATCH: {
      const got = /^got=([0-9a-f]+)$/m.exec(r.stdout)?.[1] ?? "unknown";
      throw new InvalidArgumentError(algorithm, `${url.href}: the file's ${algorithm} is ${got}, not the declared ${hex}; nothing was kept on ${t.description}`);
    }
    case EXIT.DOWNLOAD_FAILED: throw new InvalidArgumentError("url", `${where} failed, nothing was kept: ${said}`);
    case EXIT.DOWNLOAD_CUT: throw new QemuError(/time limit/.test(said) ? "TIMEOUT" : "COMMAND_FAILED", `${where}: ${said}${/time limit/.test(said) ? " (raise timeoutMs for a slow mirror)" : ""}`);
    case EXIT.MISSING_TOOL: throw new QemuError("MISSING_TOOL", `${where}: ${said}${inputs.via !== "client" && /curl|wget/.test(said) ? "; install one, or set via: \"client\"" : ""}`);
    case EXIT.LOCK_TIMEOUT: throw new QemuError("TIMEOUT", `${where}: another fetch of the same image held it for longer than the time limit: ${said}`);
    default: throw new QemuError("COMMAND_FAILED", `${where}: the fetch ${r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`}: ${said}`);
  }
}

/** Checks a verified `.ready` file's header against the declaration and links it into place; a refused one is removed. */
async function promote(t: Transport, inputs: ImageInputs, { cacheDir, entry, path }: Place): Promise<void> {
  const ready = `${cacheDir}/.${entry}.ready`;
  const head = await t.execBuffer(platformIo(t.platform).head(ready, HEADER_BYTES));
  const refuse = async (property: string, reason: string) => {
    await t.exec(hostOps(t).imageDiscard(cacheDir, entry)).catch(() => undefined);
    throw new InvalidArgumentError(property, `${inputs.url}: ${reason}; nothing was kept on ${t.description}`);
  };
  if (head.exitCode !== 0) {
    if (await pathExists(t, path)) return; // another fetch promoted it meanwhile
    throw new QemuError("COMMAND_FAILED", `${t.description}: reading ${ready}: ${head.stderr.trim()}`);
  }
  const qcow = isQcow(head.stdoutBytes);
  const format = inputs.format ?? "qcow2";
  if (format === "qcow2" && !qcow) await refuse("format", "is not a qcow2 image (no qcow2 header); set format: \"raw\" if it is a raw disk image, or compression if it is compressed");
  if (format === "raw" && qcow) await refuse("format", "is a qcow2 image, declared raw (the guest would see qcow2's metadata as its disk)");
  const reason = inputs.allowExternalFiles ? undefined : referencesReason(head.stdoutBytes, "allowExternalFiles");
  if (reason) await refuse("url", reason);
  const argv = hostOps(t).imagePromote(cacheDir, entry);
  const r = await t.exec(argv);
  if (r.exitCode !== 0) throw new QemuError("COMMAND_FAILED", `${t.description}: could not put the checked image at ${path}: ${r.stderr.trim()}`);
}

async function outputsOf(t: Transport, inputs: ImageInputs, path: string, fetchedBy: ImageOutputs["fetchedBy"]): Promise<ImageOutputs | undefined> {
  const i = await info(t, path);
  if (!i) return undefined;
  return plain({ ...inputs, path, format: (inputs.format ?? "qcow2"), virtualSizeBytes: i.virtualSizeBytes, actualSizeBytes: i.actualSizeBytes, fetchedBy });
}

export async function create(given: ImageInputs): Promise<CreateResult<ImageOutputs>> {
  throwFailures(collectFailures(validations(given)));
  const inputs = { ...given, ownerToken: newOwnerToken() };
  const t = transportFor(inputs.host);
  const place: Fetch = { ...placeOf(inputs), url: imageUrl(inputs.url) };
  const { path } = place;
  let fetchedBy: ImageOutputs["fetchedBy"] = "cache";
  if (!await pathExists(t, path)) {
    await makeDirectory(t, place.cacheDir);
    if (inputs.via === "client") await sendFromClient(t, inputs, place);
    else progress(`Image ${inputs.url}: ${t.description} downloads it into ${place.cacheDir}`);
    const fetched = await fetchOnHost(t, inputs, place);
    if (fetched.state === "ready") await promote(t, inputs, place);
    // A fetch that waited on another's lock and found its checked file did not download it.
    if (inputs.via === "client") fetchedBy = "client";
    else if (fetched.fetched) fetchedBy = "host";
  }
  await claimDisk(t, path, inputs.ownerToken, inputs.owner ?? {}, true);
  const outs = await outputsOf(t, inputs, path, fetchedBy);
  if (!outs) throw new QemuError("COMMAND_FAILED", `${t.description}: ${path} vanished right after it was fetched`);
  progress(`Image ${inputs.url}: ${fetchedBy === "cache" ? "already in the cache" : `fetched by the ${fetchedBy === "host" ? "host" : "machine running Pulumi"}`} at ${path}`);
  return { id: `${connectionIdentity(inputs.host)}#image:${path}`, outs };
}

/** Refresh: a cache entry removed on the host drops the Image from the state (the next up fetches it again). */
export async function read(id: string, props: ImageOutputs): Promise<ReadResult<ImageOutputs>> {
  const outs = await outputsOf(transportFor(props.host), props, props.path, props.fetchedBy);
  return outs ? { id, props: outs } : {};
}

export async function update(_id: string, olds: ImageOutputs, given: ImageInputs): Promise<{ outs: ImageOutputs }> {
  throwFailures(collectFailures(validations(given)));
  return { outs: plain({ ...olds, ...given, ownerToken: olds.ownerToken, path: olds.path, format: olds.format }) };
}

/** Forgets this stack's use of the entry; the file stays in the cache (gc --images removes unused entries). */
export async function remove(_id: string, props: ImageOutputs): Promise<void> {
  const t = transportFor(props.host);
  if (!await pathExists(t, props.path)) return;
  const others = await releaseDisk(t, props.path, props.ownerToken, true);
  progress(`Image ${props.path}: kept in the host's cache${others.length ? `, used by ${others.join("; ")}` : "; `pulumi-qemu gc --images` removes it once no clone or VM uses it"}`);
}

/**
 * gc --images: removes each cache entry of the working directory that nothing uses: no Image of
 * any stack records a use of it, no VM holds or declares it, no clone reads it (a Disk delete's
 * test). Returns the entries removed; the others are reported with the reason they stay.
 */
export async function removeUnusedImages(t: Transport, workDir: string, report: (m: string) => void): Promise<string[]> {
  const cacheDir = imageCacheDir(workDir);
  const list = await t.exec(["sh", "-c", '[ -d "$1" ] || exit 0; cd "$1" && for f in sha256-* sha512-*; do [ -f "$f" ] && printf "%s\\n" "$f"; done; exit 0', "image-list", cacheDir]);
  const entries = list.stdout.split("\n").filter(Boolean);
  const removed: string[] = [];
  for (const entry of entries) {
    const path = `${cacheDir}/${entry}`;
    const owners = await sharedOwnersOf(t, path);
    const kept = owners.length ? `used by ${owners.join("; ")}` : await reasonToKeep(t, workDir, path).catch((e: Error) => e.message);
    if (kept !== undefined) {
      report(`Image ${path}: kept, ${kept}`);
      continue;
    }
    await t.exec(["rm", "-rf", "--", path, `${cacheDir}/.${entry}.lock`, sharedOwnersDir(path), cloneRecordDir(path)]);
    report(`Image ${path}: removed (nothing uses it)`);
    removed.push(path);
  }
  return removed;
}
