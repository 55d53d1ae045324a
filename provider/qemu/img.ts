/** qemu-img operations as argv (pure) and the parsing of `qemu-img info --output=json`. */
import { optionValue as ov } from "./optionValue";

export interface ImageInfo {
  format: string;
  virtualSizeBytes: number;
  actualSizeBytes: number;
  /** Absolute path of the backing file, as the image header names it. */
  backingFile?: string;
  backingFormat?: string;
  /** Its internal snapshots (qcow2), oldest first. */
  snapshots: ImageSnapshot[];
}

export interface ImageSnapshot {
  id: string;
  name: string;
  /** Bytes of saved guest memory and device state: 0 for a disk-only snapshot. */
  vmStateSize: number;
  /** When it was taken (seconds since the epoch). */
  dateSec: number;
}

export function createArgv(o: { path: string; format: string; sizeBytes?: number; backing?: { path: string; format: string } }): string[] {
  return ["qemu-img", "create", "-q", "-f", o.format,
    ...(o.backing ? ["-b", o.backing.path, "-F", o.backing.format] : []),
    o.path, ...(o.sizeBytes !== undefined ? [String(o.sizeBytes)] : [])];
}

export function resizeArgv(path: string, format: string, sizeBytes: number, shrink: boolean): string[] {
  return ["qemu-img", "resize", "-q", "-f", format, ...(shrink ? ["--shrink"] : []), path, String(sizeBytes)];
}

/** -U: read the header even while a running VM holds the image's lock (QEMU 7.2 does not open the backing file). */
export function infoArgv(path: string): string[] {
  return ["qemu-img", "info", "-U", "--output=json", path];
}

export function parseInfo(json: string): ImageInfo {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const info: ImageInfo = {
    format: String(raw.format),
    virtualSizeBytes: Number(raw["virtual-size"]),
    actualSizeBytes: Number(raw["actual-size"] ?? 0),
    snapshots: (Array.isArray(raw.snapshots) ? raw.snapshots as Array<Record<string, unknown>> : []).map((s) => ({
      id: String(s.id), name: String(s.name), vmStateSize: Number(s["vm-state-size"] ?? 0), dateSec: Number(s["date-sec"] ?? 0),
    })),
  };
  const backing = (raw["full-backing-filename"] ?? raw["backing-filename"]) as string | undefined;
  if (backing) info.backingFile = backing;
  if (raw["backing-filename-format"]) info.backingFormat = String(raw["backing-filename-format"]);
  return info;
}

/**
 * An internal snapshot of a qcow2 image that no QEMU holds: take (-c), apply (-a) or delete (-d)
 * it. Never probed (qemu-img snapshot has no -f): the image is opened as qcow2 by its options.
 */
export function snapshotArgv(op: "create" | "apply" | "delete", tag: string, path: string): string[] {
  const flag = { create: "-c", apply: "-a", delete: "-d" }[op];
  return ["qemu-img", "snapshot", "-q", flag, tag, "--image-opts", `driver=qcow2,file.filename=${ov(path)}`];
}
