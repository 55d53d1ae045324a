/**
 * What an image's header makes QEMU open besides the image itself. A qcow2 (or qcow v1) header
 * may name a backing file and, from qcow2 v3, an external data file: attached as it is, such an
 * image hands the guest that file on the host. Pure: the caller reads the head of the file.
 */
const QCOW_MAGIC = 0x514649fb; // "QFI\xfb"
const QED_MAGIC = 0x00444551; // "QED\0", little-endian on disk
/** qcow2 v3 incompatible feature bit 2: the guest data lives in an external file. */
const EXTERNAL_DATA_FILE = 4n;

/** How many leading bytes references() needs to name a backing file (it sits in the first cluster). */
export const HEADER_BYTES = 65536;

/** Whether the image starts with a qcow2 (or qcow v1) header. */
export function isQcow(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32BE(0) === QCOW_MAGIC;
}

/** Each file the header names, for a message ("a backing file \"/etc/shadow\""); none for a plain image. */
export function references(head: Buffer): string[] {
  if (head.length >= 4 && head.readUInt32LE(0) === QED_MAGIC) return ["a QED header (it may name a backing file)"];
  if (head.length < 20 || !isQcow(head)) return [];
  const found: string[] = [];
  const offset = head.readBigUInt64BE(8);
  if (offset !== 0n) {
    const size = head.readUInt32BE(16);
    const end = offset + BigInt(size);
    found.push(end <= BigInt(head.length) ? `a backing file ${JSON.stringify(head.subarray(Number(offset), Number(end)).toString("utf8"))}` : "a backing file");
  }
  if (head.readUInt32BE(4) >= 3 && head.length >= 80 && (head.readBigUInt64BE(72) & EXTERNAL_DATA_FILE) !== 0n) found.push("an external data file");
  return found;
}

/** The refusal's reason, or undefined for an image that names no other file. */
export function referencesReason(head: Buffer, optIn: string): string | undefined {
  const found = references(head);
  if (!found.length) return undefined;
  return `its header names ${found.join(" and ")}, which QEMU would open on the host and hand to the guest; ` +
    `flatten it first (qemu-img convert -O qcow2 IN OUT), or set ${optIn}: true if you mean it`;
}
