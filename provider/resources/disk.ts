/**
 * Disk: an image on a host, made with qemu-img (empty, a linked clone on a base, or uploaded
 * from a local file). Grows in place; never shrinks unless `allowShrink`; never deleted while a
 * running VM holds it or another image uses it as its backing file. The image work itself is
 * provider/disks/images.ts; this is the resource's CRUD.
 */
import { sameData } from "../canonical";
import { InvalidArgumentError, QemuError, expectSuccess } from "../errors";
import { localFileHead, localFileSha256 } from "../localFile";
import { HEADER_BYTES, referencesReason } from "../qemu/imageHeader";
import { createArgv, resizeArgv } from "../qemu/img";
import { fileSha256, makeDirectory, parentDir, pathExists, removeFile, toolOn, transportFor, validateConnection, type Connection, type Transport } from "../transport";
import { hostOpsOf } from "../platform";
import { absolutePath, booleanInput, integerIn, oneOf, safeName, sizeBytes } from "../validate";
import { diskPath } from "../layout";
import { connectionIdentity, hostInDiff } from "./connection";
import { collectFailures, containsUnknown, plain, throwFailures, type CheckResult, type CreateResult, type DiffResult, type ReadResult, type Validation, recordedProviderChanged } from "./types";
import { mib, progress } from "../progress";
import { checkDiskOwner, claimDisk, diskOwnerOf, releaseDisk } from "../disks/owner";
import { forgetClone, growOnline, info, qemuImg, reasonToKeep, recordClone, removeImage, runningHoldersOf, upload, usersOf } from "../disks/images";
import { describeOwner, newOwnerToken, ownedName, type OwnerLabel } from "../vm/owner";

export interface DiskInputs {
  host: Connection;
  /** The id of the Host whose `connection` is `host`, passed by the SDK: known in a preview while the connection is not. */
  hostId?: string;
  /** Names the default path `<workDir>/disks/<name>.<tag>.<format>`; default the resource's name. */
  name: string;
  /** Absolute path of the image on the host; default under the host's working directory. */
  path?: string;
  format?: "qcow2" | "raw";
  /** "10G", "512M" or bytes; default the base's or the source's size. */
  size?: string | number;
  /** A linked clone: path of the base image on the host (kept as the overlay's backing file). */
  backingImage?: string;
  backingFormat?: "qcow2" | "raw";
  /** A file on the machine running Pulumi, uploaded (streamed to a temp name, checksum, rename). */
  source?: string;
  /** Upload a qcow2 `source` whose header names a backing or external data file (refused by default: the guest would get that file on the host). */
  allowExternalFiles?: boolean;
  /** How long the upload of `source` may take, in milliseconds; default an hour. */
  uploadTimeoutMs?: number;
  /** Lets a smaller `size` shrink the image: data past the new end is lost. */
  allowShrink?: boolean;
  /**
   * A base image that several stacks or fleets place at one path: create adopts a file already
   * there with the same bytes as `source`, and delete leaves it while another image uses it as
   * backing file or a VM holds it.
   */
  shared?: boolean;
  /** Makes the image this resource's on a shared host (diskOwner.ts); made by the provider at create, kept secret in state. */
  ownerToken?: string;
  /** Who the Disk is for people, in its owner record: set by the SDK (project, stack, resource name). */
  owner?: OwnerLabel;
}

export interface DiskOutputs extends DiskInputs {
  path: string;
  format: "qcow2" | "raw";
  virtualSizeBytes: number;
  actualSizeBytes: number;
  /** The base image as the header names it, and whether it exists now. */
  backingFile?: string;
  backingMissing?: boolean;
}

/** The explicit path, or `disks/NAME.TAG.FORMAT` (TAG from the owner token; `NAME.FORMAT` for a Disk an earlier release made). */
export function pathOf(inputs: DiskInputs): string {
  const name = inputs.ownerToken ? ownedName(inputs.name, inputs.ownerToken) : inputs.name;
  return inputs.path ?? diskPath(inputs.host.workDir, name, inputs.format ?? "qcow2");
}

function validations(inputs: DiskInputs): Validation[] {
  return [
    [[inputs.host], () => void validateConnection(inputs.host, "host")],
    [[inputs.name, inputs.host, inputs.path], () => {
      safeName(inputs.name, "name");
      if (!inputs.host || typeof inputs.host !== "object") return;
      const ops = hostOpsOf(inputs.host);
      if (inputs.path === undefined) ops.checkFileName(inputs.name, "name");
      else if (typeof inputs.path === "string") ops.checkFileName(inputs.path.split(/[\\/]/).pop() ?? "", "path");
    }],
    [[inputs.path], () => void (inputs.path !== undefined && absolutePath(inputs.path, "path"))],
    [[inputs.format], () => void (inputs.format !== undefined && oneOf(inputs.format, "format", ["qcow2", "raw"] as const))],
    [[inputs.backingFormat], () => void (inputs.backingFormat !== undefined && oneOf(inputs.backingFormat, "backingFormat", ["qcow2", "raw"] as const))],
    [[inputs.size], () => void (inputs.size !== undefined && sizeBytes(inputs.size, "size"))],
    [[inputs.allowShrink], () => void booleanInput(inputs.allowShrink, "allowShrink")],
    [[inputs.shared], () => void booleanInput(inputs.shared, "shared")],
    [[inputs.uploadTimeoutMs], () => void (inputs.uploadTimeoutMs !== undefined && integerIn(inputs.uploadTimeoutMs, "uploadTimeoutMs", 1000, 7 * 24 * 3600000))],
    [[inputs.backingImage, inputs.format], () => {
      if (inputs.backingImage === undefined) return;
      absolutePath(inputs.backingImage, "backingImage");
      if ((inputs.format ?? "qcow2") !== "qcow2") throw new InvalidArgumentError("backingImage", "a linked clone must be format qcow2");
    }],
    [[inputs.source, inputs.backingImage, inputs.size], () => {
      const sources = [inputs.source !== undefined, inputs.backingImage !== undefined].filter(Boolean).length;
      if (sources > 1) throw new InvalidArgumentError("source", "give only one of source and backingImage");
      if (inputs.source !== undefined && (typeof inputs.source !== "string" || inputs.source === "")) throw new InvalidArgumentError("source", "must be a path on the machine running Pulumi");
      if (sources === 0 && inputs.size === undefined) throw new InvalidArgumentError("size", "is required for an empty disk (no backingImage or source)");
    }],
    [[inputs.source, inputs.allowExternalFiles], () => {
      if (typeof inputs.source !== "string" || inputs.source === "" || booleanInput(inputs.allowExternalFiles, "allowExternalFiles")) return;
      let head: Buffer;
      try {
        head = localFileHead(inputs.source, HEADER_BYTES);
      } catch {
        return; // not there (yet, or any more): the upload says so, and a Disk made earlier needs it no more
      }
      const reason = referencesReason(head, "allowExternalFiles");
      if (reason) throw new InvalidArgumentError("source", `${inputs.source}: ${reason}`);
    }],
    [[inputs.shared, inputs.source, inputs.path], () => {
      if (!inputs.shared) return;
      if (inputs.source === undefined) throw new InvalidArgumentError("shared", "a shared image needs a source (its bytes decide whether an existing file is the same image)");
      if (inputs.path === undefined) throw new InvalidArgumentError("shared", "a shared image needs an explicit path that every user of it names");
    }],
  ];
}

export async function check(olds: Partial<DiskInputs> | undefined, news: DiskInputs): Promise<CheckResult<DiskInputs>> {
  const failures = collectFailures(validations(news));
  // A declared shrink (the old size input is larger) fails already in preview; update also
  // compares with the image's real size.
  const known = (v: unknown) => v !== undefined && !containsUnknown(v);
  if (!failures.length && known(olds?.size) && known(news.size) && !news.allowShrink) {
    const before = sizeBytes(olds!.size, "size");
    const after = sizeBytes(news.size, "size");
    if (after < before) failures.push({ property: "size", reason: shrinkReason(before, after) });
  }
  return failures.length ? { failures } : { inputs: news };
}

function shrinkReason(from: number, to: number): string {
  return `would shrink the disk from ${from} to ${to} bytes, losing the data past the new end; set allowShrink: true to accept that`;
}

export async function diff(_id: string, olds: DiskOutputs, given: DiskInputs): Promise<DiffResult> {
  const host = hostInDiff(olds.host, given.host, given.hostId);
  const news = { ...given, host: host.host, ownerToken: olds.ownerToken };
  const pathUnknown = [news.host, news.name, news.path, news.format].some(containsUnknown);
  const replaces = [
    host.replaced ? "host" : "",
    pathUnknown || pathOf(news) !== olds.path ? "path" : "",
    (news.format ?? "qcow2") !== olds.format ? "format" : "",
    !sameData(news.backingImage, olds.backingImage) ? "backingImage" : "",
    !sameData(news.source, olds.source) ? "source" : "",
  ].filter(Boolean);
  const wanted = news.size === undefined || containsUnknown(news.size) ? undefined : sizeBytes(news.size, "size");
  const resize = wanted !== undefined && wanted !== olds.virtualSizeBytes;
  const changes = replaces.length > 0 || resize || Boolean(olds.allowShrink) !== Boolean(news.allowShrink) || containsUnknown(news.size) ||
    host.credentials;
  return { changes: changes || recordedProviderChanged(olds, news), replaces };
}

async function outputsOf(t: Transport, inputs: DiskInputs, path: string): Promise<DiskOutputs | undefined> {
  const i = await info(t, path);
  if (!i) return undefined;
  const backingMissing = i.backingFile ? !await pathExists(t, i.backingFile) : undefined;
  return plain({ ...inputs, path, format: i.format as "qcow2" | "raw", virtualSizeBytes: i.virtualSizeBytes, actualSizeBytes: i.actualSizeBytes, backingFile: i.backingFile, backingMissing });
}

/** A shared image already at `path` with the source's content (another stack's upload): this Disk becomes one of its owners. */
async function joinSharedImage(t: Transport, inputs: DiskInputs & { ownerToken: string }, path: string): Promise<CreateResult<DiskOutputs> | undefined> {
  if (!inputs.shared || await fileSha256(t, path) !== localFileSha256(inputs.source!)) return undefined;
  progress(`Disk ${path}: the shared image is already on ${t.description} (same sha256); using it`);
  await claimDisk(t, path, inputs.ownerToken, inputs.owner ?? {}, true);
  return { id: `${connectionIdentity(inputs.host)}#disk:${path}`, outs: (await outputsOf(t, inputs, path))! };
}

export async function create(given: DiskInputs): Promise<CreateResult<DiskOutputs>> {
  throwFailures(collectFailures(validations(given)));
  const inputs = { ...given, ownerToken: newOwnerToken() };
  const t = transportFor(inputs.host);
  const path = pathOf(inputs);
  const format = inputs.format ?? "qcow2";
  if (await pathExists(t, path)) {
    const joined = await joinSharedImage(t, inputs, path);
    if (joined) return joined;
    const owner = await diskOwnerOf(t, path);
    throw new QemuError("ALREADY_EXISTS", `${t.description}: ${path} already exists${owner ? ` and belongs to ${describeOwner(owner.record)}` : ""}; it is not overwritten. ` +
      `${owner ? "Choose another path" : "Import it (pulumi import, or opts.import) or choose another path"}`);
  }
  await makeDirectory(t, parentDir(path));
  const size = inputs.size === undefined ? undefined : sizeBytes(inputs.size, "size");
  if (inputs.source !== undefined) {
    if (!await upload(t, inputs.source, path, inputs.uploadTimeoutMs, !!inputs.shared)) {
      // Another stack uploaded the same shared image meanwhile: one copy, two owners.
      const joined = await joinSharedImage(t, inputs, path);
      if (joined) return joined;
      throw new QemuError("CONFLICT", `${t.description}: ${path} appeared during the upload with other content; it is not overwritten`);
    }
    const uploaded = (await info(t, path))!;
    if (size !== undefined && size > uploaded.virtualSizeBytes) await qemuImg(t, resizeArgv(path, uploaded.format, size, false));
  } else {
    let backing: { path: string; format: string } | undefined;
    if (inputs.backingImage !== undefined) {
      const base = await info(t, inputs.backingImage);
      if (!base) throw new InvalidArgumentError("backingImage", `${inputs.backingImage} does not exist on ${t.description}`);
      backing = { path: inputs.backingImage, format: inputs.backingFormat ?? base.format };
    }
    await qemuImg(t, createArgv({ path, format, sizeBytes: size, backing }), `creating disk ${inputs.name}`);
    if (backing) await recordClone(t, backing.path, path);
  }
  await claimDisk(t, path, inputs.ownerToken, inputs.owner ?? {}, !!inputs.shared).catch(async (e) => {
    // A Disk whose owner cannot be recorded is not made: nothing stays behind.
    await removeFile(t, path).catch(() => undefined);
    await forgetClone(t, { ...inputs, path } as DiskOutputs).catch(() => undefined);
    throw e;
  });
  return { id: `${connectionIdentity(inputs.host)}#disk:${path}`, outs: (await outputsOf(t, inputs, path))! };
}

/** Refresh: a vanished file drops the disk from the state (the next up makes it again); size and backing drift show. */
export async function read(id: string, props: DiskOutputs): Promise<ReadResult<DiskOutputs>> {
  if (!props.shared) await checkDiskOwner(transportFor(props.host), props.path, props.ownerToken, "reading");
  const outs = await outputsOf(transportFor(props.host), props, props.path);
  return outs ? { id, props: outs } : {};
}

export async function update(_id: string, olds: DiskOutputs, given: DiskInputs): Promise<{ outs: DiskOutputs }> {
  throwFailures(collectFailures(validations(given)));
  const news = { ...given, ownerToken: olds.ownerToken };
  const t = transportFor(news.host);
  if (!olds.shared) await checkDiskOwner(t, olds.path, olds.ownerToken, "changing");
  if (news.size !== undefined) {
    const wanted = sizeBytes(news.size, "size");
    const current = (await info(t, olds.path))?.virtualSizeBytes;
    if (current === undefined) throw new QemuError("NOT_FOUND", `${t.description}: disk ${olds.path} is gone; refresh to recreate it`);
    if (wanted < current && !news.allowShrink) throw new InvalidArgumentError("size", shrinkReason(current, wanted));
    if (wanted !== current) {
      // Where QEMU takes no image locks (macOS, BSD, some NFS) qemu-img would not notice a running VM.
      const running = await runningHoldersOf(t, news.host.workDir, olds.path);
      if (running.length === 1 && wanted > current) {
        await growOnline(running[0], olds.path, wanted);
        progress(`Disk ${olds.path}: grown to ${mib(wanted)} MiB while VM ${running[0].name} runs (QEMU's block_resize)`);
        return { outs: (await outputsOf(t, news, olds.path))! };
      }
      if (running.length) {
        throw new QemuError("IN_USE", `${t.description}: cannot ${wanted < current ? "shrink" : "resize"} ${olds.path} while ${running.length > 1 ? "several running VMs hold" : "a running VM holds"} it ` +
          `(${running.map((r) => `VM ${r.name}`).join(", ")}); stop the VM (state: "stopped") first`);
      }
      const argv = toolOn(t, resizeArgv(olds.path, olds.format, wanted, wanted < current));
      const r = await t.exec(argv);
      if (r.exitCode !== 0 && /lock/i.test(r.stderr)) {
        throw new QemuError("IN_USE", `${t.description}: cannot resize ${olds.path} while a running VM holds it (${(await usersOf(t, news.host.workDir, olds.path)).join(", ") || "unknown VM"}); stop the VM (state: "stopped") first`);
      }
      expectSuccess(`${t.description}: resizing disk ${news.name}`, argv, r);
    }
  }
  return { outs: (await outputsOf(t, news, olds.path))! };
}

export async function remove(_id: string, props: DiskOutputs): Promise<void> {
  const t = transportFor(props.host);
  if (!await pathExists(t, props.path)) return forgetClone(t, props); // already gone
  if (!props.shared) await checkDiskOwner(t, props.path, props.ownerToken, "deleting");
  const others = props.shared ? await releaseDisk(t, props.path, props.ownerToken, true) : [];
  if (others.length) return progress(`Disk ${props.path}: shared image kept, ${others.length} other owner(s) still use it: ${others.join("; ")}`);
  const kept = await reasonToKeep(t, props.host.workDir, props.path);
  if (kept !== undefined) {
    if (props.shared) return progress(`Disk ${props.path}: shared image kept, ${kept}`);
    throw new QemuError("IN_USE", `${t.description}: not deleting disk ${props.path}: ${kept}`);
  }
  await removeImage(t, props);
}
