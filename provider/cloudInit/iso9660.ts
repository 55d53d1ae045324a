/**
 * A minimal ISO 9660 image (ECMA-119) with Joliet names: one root directory of small files.
 * Enough for a cloud-init NoCloud seed, built in memory so the host needs no genisoimage.
 * Output is deterministic (fixed dates): the same files give the same bytes.
 */
const SECTOR = 2048;

export interface IsoFile {
  /** Lowercase name as the guest should see it (Joliet), e.g. "user-data". */
  name: string;
  data: Buffer;
}

function bothEndian32(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(n, 0);
  b.writeUInt32BE(n, 4);
  return b;
}

function bothEndian16(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(n, 0);
  b.writeUInt16BE(n, 2);
  return b;
}

/** A space-padded a/d-character field, or a UCS-2 BE one for Joliet. */
function textField(text: string, length: number, joliet: boolean): Buffer {
  if (!joliet) return Buffer.from(text.padEnd(length, " ").slice(0, length), "ascii");
  const b = Buffer.alloc(length);
  for (let i = 0; i + 1 < length; i += 2) b.writeUInt16BE(i / 2 < text.length ? text.charCodeAt(i / 2) : 0x20, i);
  return b;
}

function ucs2be(text: string): Buffer {
  const b = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) b.writeUInt16BE(text.charCodeAt(i), i * 2);
  return b;
}

/** "Not specified" dates (ECMA-119 8.4.26.1): sixteen '0' digits and a zero offset. */
const NO_DATE = Buffer.concat([Buffer.from("0".repeat(16), "ascii"), Buffer.alloc(1)]);
/** Directory record date: 1970-01-01 00:00:00 UTC, fixed for reproducible images. */
const RECORD_DATE = Buffer.from([70, 1, 1, 0, 0, 0, 0]);

function directoryRecord(identifier: Buffer, extent: number, length: number, isDirectory: boolean): Buffer {
  const size = 33 + identifier.length + (identifier.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(size);
  r[0] = size;
  bothEndian32(extent).copy(r, 2);
  bothEndian32(length).copy(r, 10);
  RECORD_DATE.copy(r, 18);
  r[25] = isDirectory ? 2 : 0;
  bothEndian16(1).copy(r, 28);
  r[32] = identifier.length;
  identifier.copy(r, 33);
  return r;
}

/** The ISO 9660 primary name: d-characters, at most 30 with the ";1" version. */
function primaryName(name: string): string {
  const base = name.toUpperCase().replace(/[^A-Z0-9_]/g, "_").slice(0, 28);
  return `${base}.;1`;
}

function pathTable(rootExtent: number, bigEndian: boolean): Buffer {
  const t = Buffer.alloc(10);
  t[0] = 1; // length of the root's identifier
  if (bigEndian) { t.writeUInt32BE(rootExtent, 2); t.writeUInt16BE(1, 6); } else { t.writeUInt32LE(rootExtent, 2); t.writeUInt16LE(1, 6); }
  return t; // identifier byte 0x00 and the pad byte are already zero
}

export function buildIso(volumeId: string, files: IsoFile[]): Buffer {
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(volumeId)) throw new Error(`ISO volume id ${JSON.stringify(volumeId)} must be 1-16 of letters, digits, '_', '-'`);
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  sorted.forEach((f, i) => {
    if (!/^[a-z0-9_.-]{1,64}$/.test(f.name)) throw new Error(`ISO file name ${JSON.stringify(f.name)} must be 1-64 of a-z, 0-9, '_', '.', '-'`);
    if (i > 0 && sorted[i - 1].name === f.name) throw new Error(`ISO file name ${f.name} given twice`);
  });
  // Sectors: 0-15 system area, 16 primary, 17 Joliet, 18 terminator, 19-22 path tables,
  // 23 primary root, 24 Joliet root, then the files.
  const [PRIMARY_L, PRIMARY_M, JOLIET_L, JOLIET_M, PRIMARY_ROOT, JOLIET_ROOT, FIRST_FILE] = [19, 20, 21, 22, 23, 24, 25];
  const extents: number[] = [];
  let next = FIRST_FILE;
  for (const f of sorted) {
    extents.push(next);
    next += Math.max(1, Math.ceil(f.data.length / SECTOR));
  }
  const totalSectors = next;
  const image = Buffer.alloc(totalSectors * SECTOR);

  const rootDirectory = (extent: number, joliet: boolean): Buffer => {
    const records = [
      directoryRecord(Buffer.from([0]), extent, SECTOR, true),
      directoryRecord(Buffer.from([1]), extent, SECTOR, true),
      ...sorted.map((f, i) => directoryRecord(joliet ? ucs2be(f.name) : Buffer.from(primaryName(f.name), "ascii"), extents[i], f.data.length, false)),
    ];
    const bytes = Buffer.concat(records);
    if (bytes.length > SECTOR) throw new Error(`too many files for a one-sector ISO root directory (${bytes.length} bytes)`);
    return bytes;
  };

  const descriptor = (joliet: boolean): Buffer => {
    const d = Buffer.alloc(SECTOR);
    d[0] = joliet ? 2 : 1;
    d.write("CD001", 1, "ascii");
    d[6] = 1;
    textField("LINUX", 32, joliet).copy(d, 8);
    textField(volumeId, 32, joliet).copy(d, 40);
    bothEndian32(totalSectors).copy(d, 80);
    if (joliet) d.write("%/E", 88, "ascii"); // UCS-2 level 3
    bothEndian16(1).copy(d, 120); // volume set size
    bothEndian16(1).copy(d, 124); // volume sequence number
    bothEndian16(SECTOR).copy(d, 128);
    bothEndian32(10).copy(d, 132); // path table size
    d.writeUInt32LE(joliet ? JOLIET_L : PRIMARY_L, 140);
    d.writeUInt32BE(joliet ? JOLIET_M : PRIMARY_M, 148);
    directoryRecord(Buffer.from([0]), joliet ? JOLIET_ROOT : PRIMARY_ROOT, SECTOR, true).copy(d, 156);
    for (const [offset, length] of [[190, 128], [318, 128], [446, 128], [574, 128], [702, 37], [739, 37], [776, 37]]) {
      textField("", length, joliet).copy(d, offset);
    }
    textField("PULUMI-QEMU", 128, joliet).copy(d, 574); // application identifier
    for (const offset of [813, 830, 847, 864]) NO_DATE.copy(d, offset);
    d[881] = 1; // file structure version
    return d;
  };

  descriptor(false).copy(image, 16 * SECTOR);
  descriptor(true).copy(image, 17 * SECTOR);
  const terminator = Buffer.alloc(SECTOR);
  terminator[0] = 255;
  terminator.write("CD001", 1, "ascii");
  terminator[6] = 1;
  terminator.copy(image, 18 * SECTOR);
  pathTable(PRIMARY_ROOT, false).copy(image, PRIMARY_L * SECTOR);
  pathTable(PRIMARY_ROOT, true).copy(image, PRIMARY_M * SECTOR);
  pathTable(JOLIET_ROOT, false).copy(image, JOLIET_L * SECTOR);
  pathTable(JOLIET_ROOT, true).copy(image, JOLIET_M * SECTOR);
  rootDirectory(PRIMARY_ROOT, false).copy(image, PRIMARY_ROOT * SECTOR);
  rootDirectory(JOLIET_ROOT, true).copy(image, JOLIET_ROOT * SECTOR);
  sorted.forEach((f, i) => f.data.copy(image, extents[i] * SECTOR));
  return image;
}
