/**
 * GuestFile: a file put into a VM's guest through its QEMU guest agent, from `content` or a local
 * `source` file: written beside its path and renamed into place (never half a file at the path),
 * with its mode and owner; checked by digest on refresh; rewritten when it changes; removed on
 * delete only while it still holds what was put there. A file already at the path with other
 * content is not overwritten unless `overwrite` says so.
 */
import { createHash, randomBytes } from "crypto";
import { readFileSync } from "fs";
import { InvalidArgumentError, QemuError, tail } from "../errors";
import { sameData } from "../canonical";
import { absolutePath, booleanInput } from "../validate";
import type { GuestAgentClient } from "../qemu/qga";
import { guestExec, readGuestFile, withVmGuestAgent } from "../vm/guestAgent";
import type { VmHandle } from "../vm/handle";
import { progress } from "../progress";
import { hostInDiff } from "./connection";
import { agentReachable, requireRunning, targetHandle, targetId, targetValidations, type GuestTargetInputs } from "./guestTarget";
import { collectFailures, containsUnknown, plain, recordedProviderChanged, throwFailures, type CheckResult, type CreateResult, type DiffResult, type ReadResult, type Validation } from "./types";

export interface GuestFileInputs extends GuestTargetInputs {
  /** Where in the guest (an absolute path). */
  path: string;
  content?: string;
  /** A file on the machine running Pulumi, instead of `content`. */
  source?: string;
  /** Octal, e.g. "0644" (the default). */
  mode?: string;
  /** "user", "user:group" or numeric ids; default the agent's (root). */
  owner?: string;
  /** Replace a file already at the path with other content (default: refused). */
  overwrite?: boolean;
  /** The digest of `source`'s bytes, taken at check: a changed local file is a change. Not a user input. */
  sourceSha256?: string;
}

export interface GuestFileOutputs extends GuestFileInputs {
  /** The sha256 of the file in the guest: what was put there, or on refresh what is there now ("" when it is gone). */
  sha256: string;
  size: number;
}

const MODE = /^0?[0-7]{3}$/;
const OWNER = /^([a-z_][a-z0-9_-]{0,31}|\d+)(:([a-z_][a-z0-9_-]{0,31}|\d+))?$/i;
/** Bytes per guest-file-write (1 MiB, about 1.4 MB of JSON). */
const CHUNK = 2 ** 20;
/** What one GuestFile may carry through the agent. */
const MAX_BYTES = 256 * 2 ** 20;

function validations(i: GuestFileInputs): Validation[] {
  return [
    ...targetValidations(i),
    [[i.path], () => {
      // A POSIX guest's: the mode, owner and rename run its chmod, chown and mv.
      if (typeof i.path !== "string" || !i.path.startsWith("/") || i.path.endsWith("/")) throw new InvalidArgumentError("path", `must be the absolute path of a file in the guest (/...), got ${JSON.stringify(i.path)}`);
      absolutePath(i.path, "path");
    }],
    [[i.content, i.source], () => {
      if ((i.content === undefined) === (i.source === undefined)) throw new InvalidArgumentError("content", "give exactly one of content and source");
      if (i.content !== undefined && typeof i.content !== "string") throw new InvalidArgumentError("content", "must be a string");
      if (i.source !== undefined) absolutePath(i.source, "source");
    }],
    [[i.mode], () => { if (i.mode !== undefined && (typeof i.mode !== "string" || !MODE.test(i.mode))) throw new InvalidArgumentError("mode", `must be an octal mode such as "0644", got ${JSON.stringify(i.mode)}`); }],
    [[i.owner], () => { if (i.owner !== undefined && (typeof i.owner !== "string" || !OWNER.test(i.owner))) throw new InvalidArgumentError("owner", `must be "user", "user:group" or numeric ids, got ${JSON.stringify(i.owner)}`); }],
    [[i.overwrite], () => void booleanInput(i.overwrite, "overwrite")],
  ];
}

function bytesOf(i: GuestFileInputs): Buffer {
  if (i.content !== undefined) return Buffer.from(i.content, "utf8");
  try {
    return readFileSync(i.source!);
  } catch (e) {
    throw new InvalidArgumentError("source", `cannot read ${i.source}: ${(e as Error).message}`);
  }
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export async function check(_olds: unknown, news: GuestFileInputs): Promise<CheckResult<GuestFileInputs>> {
  const failures = collectFailures(validations(news));
  if (failures.length) return { failures };
  if (news.source === undefined || containsUnknown(news.source)) return { inputs: news };
  try {
    const bytes = bytesOf(news);
    if (bytes.length > MAX_BYTES) throw new InvalidArgumentError("source", `is ${bytes.length} bytes; a GuestFile carries at most ${MAX_BYTES} (copy larger files into a Disk)`);
    return { inputs: { ...news, sourceSha256: sha256(bytes) } };
  } catch (e) {
    if (e instanceof InvalidArgumentError) return { failures: [{ property: e.property, reason: e.reason }] };
    throw e;
  }
}

function wantedSha256(i: GuestFileInputs): string | undefined {
  if (i.content !== undefined) return containsUnknown(i.content) ? undefined : sha256(Buffer.from(i.content, "utf8"));
  return i.sourceSha256;
}

export async function diff(_id: string, olds: GuestFileOutputs, given: GuestFileInputs): Promise<DiffResult> {
  const host = hostInDiff(olds.host, given.host, given.hostId);
  const news = { ...given, host: host.host };
  const same = (k: keyof GuestFileInputs) => sameData(olds[k] ?? null, news[k] ?? null);
  const replaces = [host.replaced ? "host" : "", !same("stateDir") || !same("vm") ? "vm" : "", !same("path") ? "path" : ""].filter(Boolean);
  // The recorded digest is what a refresh found in the guest: a file changed there is rewritten.
  const content = wantedSha256(news) !== olds.sha256;
  const changes = replaces.length > 0 || content || !(["mode", "owner", "overwrite", "source"] as const).every(same) || host.credentials;
  return { changes: changes || recordedProviderChanged(olds, news), replaces };
}

/** The sha256 and size of a guest file, read through the agent; undefined when there is none. */
async function guestDigest(agent: GuestAgentClient, path: string): Promise<{ sha256: string; size: number } | undefined> {
  const hash = createHash("sha256");
  let size = 0;
  const found = await readGuestFile(agent, path, (piece) => { hash.update(piece); size += piece.length; });
  return found ? { sha256: hash.digest("hex"), size } : undefined;
}

/** Runs a program in the guest that must succeed (chmod, chown, mv, rm). */
async function mustRun(agent: GuestAgentClient, handle: VmHandle, vm: string, argv: string[]): Promise<void> {
  const r = await guestExec(agent, { argv, timeoutMs: 60000 });
  if (r.exitCode !== 0) throw new QemuError("COMMAND_FAILED", `${handle.transport.description}: VM ${vm}: \`${argv.join(" ")}\` in the guest exited with code ${r.exitCode}: ${tail(r.stderr.trim(), 500)}`);
}

/** Writes the bytes beside the path, sets mode and owner, renames into place; a failure removes the part file. */
async function put(agent: GuestAgentClient, handle: VmHandle, i: GuestFileInputs, bytes: Buffer): Promise<void> {
  const part = `${i.path}.pq-${randomBytes(4).toString("hex")}.part`;
  const file = await agent.execute<number>("guest-file-open", { path: part, mode: "w" }, 10000).catch((e: Error) => {
    throw new QemuError("COMMAND_FAILED", `${handle.transport.description}: VM ${i.vm}: cannot write ${part} in the guest (does its directory exist?): ${e.message}`);
  });
  try {
    try {
      // Opened with "w", the part file exists from here: an empty content needs no write.
      for (let at = 0; at < bytes.length; at += CHUNK) {
        await agent.execute("guest-file-write", { handle: file, "buf-b64": bytes.subarray(at, at + CHUNK).toString("base64") }, 60000);
      }
    } finally {
      await agent.execute("guest-file-close", { handle: file }, 10000);
    }
    await mustRun(agent, handle, i.vm, ["chmod", i.mode ?? "0644", part]);
    if (i.owner !== undefined) await mustRun(agent, handle, i.vm, ["chown", i.owner, part]);
    await mustRun(agent, handle, i.vm, ["mv", "-f", part, i.path]);
  } catch (e) {
    await guestExec(agent, { argv: ["rm", "-f", part], timeoutMs: 10000 }).catch(() => undefined);
    throw e;
  }
}

async function write(i: GuestFileInputs, mayReplace: (found: string) => boolean): Promise<GuestFileOutputs> {
  throwFailures(collectFailures(validations(i)));
  const handle = targetHandle(i);
  await requireRunning(handle, i.vm);
  const bytes = bytesOf(i);
  const digest = sha256(bytes);
  await withVmGuestAgent(handle, 10000, async (agent) => {
    const found = await guestDigest(agent, i.path);
    if (found && found.sha256 !== digest && !mayReplace(found.sha256)) {
      throw new QemuError("ALREADY_EXISTS", `${handle.transport.description}: VM ${i.vm}: ${i.path} already exists in the guest with other content (sha256 ${found.sha256.slice(0, 16)}...): not overwritten; set overwrite: true to replace it`);
    }
    progress(`VM ${i.vm}: putting ${i.path} (${bytes.length} bytes) into the guest`);
    await put(agent, handle, i, bytes);
  });
  return plain({ ...i, sha256: digest, size: bytes.length });
}

export async function create(i: GuestFileInputs): Promise<CreateResult<GuestFileOutputs>> {
  const outs = await write(i, () => i.overwrite === true);
  return { id: targetId(i, "guest-file", i.path), outs };
}

/** Refresh: the file's digest in the guest now ("" when it is gone); a VM not running keeps what was recorded. */
export async function read(id: string, props: GuestFileOutputs): Promise<ReadResult<GuestFileOutputs>> {
  const handle = targetHandle(props);
  if (!(await agentReachable(handle))) return { id, props };
  const found = await withVmGuestAgent(handle, 10000, (agent) => guestDigest(agent, props.path));
  return { id, props: { ...props, sha256: found?.sha256 ?? "", size: found?.size ?? 0 } };
}

/** The file is this resource's: what it recorded, or what a refresh found, may be replaced. */
export async function update(_id: string, olds: GuestFileOutputs, i: GuestFileInputs): Promise<{ outs: GuestFileOutputs }> {
  return { outs: await write(i, (found) => found === olds.sha256 || i.overwrite === true) };
}

/** Removes the file while it holds what was put there; one changed since is left, and the output says so. */
export async function remove(_id: string, props: GuestFileOutputs): Promise<void> {
  const handle = targetHandle(props);
  if (!(await agentReachable(handle))) {
    progress(`VM ${props.vm}: not running with its guest agent: ${props.path} was left in the guest`);
    return;
  }
  await withVmGuestAgent(handle, 10000, async (agent) => {
    const found = await guestDigest(agent, props.path);
    if (!found) return;
    if (found.sha256 !== props.sha256) {
      progress(`VM ${props.vm}: ${props.path} changed in the guest since it was put there: left in place`);
      return;
    }
    await mustRun(agent, handle, props.vm, ["rm", "-f", props.path]);
  });
}
