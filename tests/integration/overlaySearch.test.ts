/**
 * The search for a base's clones (provider/scripts/disk-overlays.sh, run here by the local sh and
 * find) while its directory changes: one destroy deletes several Disks of one working directory at
 * once, so an image or a VM's directory can vanish under another Disk's search (seen in CI: a raw
 * Disk's delete refused with "find exited 1" while a sibling Disk was deleted). A vanished entry
 * is no clone; a directory the search cannot read still refuses the delete.
 *
 * od (which reads each image's header) is wrapped by a stand-in first in PATH that, at its first
 * call, deletes every sibling of the directory it was asked about. find passes its images to the
 * reader in batches and waits for each; the batch fills inside the first directory it walks, so
 * the other one is deleted after find listed it and before it went in, whichever comes first.
 *
 * Then what the header reader tells of real images (made by qemu-img): a clone with an absolute or
 * a relative backing name, a qcow2 with none, a file that is no qcow2, a header cut short, a
 * backing name longer than the file; and a directory under the first searched once, not twice.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseOverlayRecords } from "../../provider/disks/scripts";
import { hostOps } from "../../provider/platform";
import { skipBecause } from "../helpers/skip";

const REAL_OD = spawnSync("sh", ["-c", "command -v od"], { encoding: "utf8" }).stdout.trim();
const STAND_IN = `#!/bin/sh
for f do :; done
top=$(dirname "$(dirname "$f")")
if [ ! -e "$top.deleted" ]; then
  : > "$top.deleted"
  for x in "$top"/*; do [ "$x" = "$(dirname "$f")" ] || rm -rf "$x"; done
fi
exec ${REAL_OD} "$@"
`;

describe("the clone search while its directory changes (local sh and find, a stand-in od)", function () {
  this.timeout(120000);
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "overlay-search-"));
    mkdirSync(path.join(root, "bin"));
    writeFileSync(path.join(root, "bin/od"), STAND_IN, { mode: 0o755 });
    // Long names, so that find's first batch fills inside the first directory it walks.
    for (const dir of ["work/one", "work/two"]) {
      mkdirSync(path.join(root, dir), { recursive: true });
      for (let i = 0; i < 800; i++) writeFileSync(path.join(root, dir, `${String(i).padStart(4, "0")}-${"x".repeat(240)}.qcow2`), "");
    }
    chmodSync(root, 0o755);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const search = (asUser?: string) => {
    const [cmd, ...args] = hostOps({ platform: "posix" }).overlays([path.join(root, "work")], path.join(root, "base.qcow2"));
    const env = { PATH: `${path.join(root, "bin")}:/usr/sbin:/usr/bin:/sbin:/bin` };
    const r = asUser ? spawnSync("runuser", ["-u", asUser, "--", "env", `PATH=${env.PATH}`, cmd, ...args], { encoding: "utf8" })
      : spawnSync(cmd, args, { encoding: "utf8", env });
    return { ...parseOverlayRecords(r.stdout), stderr: r.stderr, status: r.status };
  };

  it("an image or directory deleted during the walk is no clone: the search still answers", () => {
    const r = search();
    assert.strictEqual(r.status, 0, r.stderr);
    assert.ok(existsSync(path.join(root, "work.deleted")), "the stand-in od never ran");
    assert.match(r.stderr, /No such file or directory/, "the walk did not meet a vanished entry, so this test shows nothing");
    assert.deepStrictEqual(r.unreadable, []);
    assert.ok(r.candidates.length >= 800 && r.candidates.length < 1600, `${r.candidates.length} images judged`);
  });

  it("a directory the search cannot read still refuses (find's complaint is not a vanished entry)", function () {
    if (process.getuid?.() !== 0) skipBecause(this, "runuser needs root (as another user the chmod below already binds)");
    chmodSync(path.join(root, "work/two"), 0o000);
    chmodSync(path.join(root, "work"), 0o755);
    const r = search("nobody");
    assert.match(r.stderr, /Permission denied/);
    assert.ok(r.unreadable.some((u) => /a directory search: find exited 1/.test(u)), `unreadable (last 3 of ${r.unreadable.length}): ${JSON.stringify(r.unreadable.slice(-3))}`);
  });
});

describe("the clone search's header reader (local sh, od and dd; images made by qemu-img)", function () {
  this.timeout(60000);
  let root: string;
  const img = (...args: string[]) => {
    const r = spawnSync("qemu-img", ["create", "-q", "-f", ...args], { encoding: "utf8" });
    assert.strictEqual(r.status, 0, r.stderr);
  };
  const search = (dirs: string[], base: string) => {
    const [cmd, ...args] = hostOps({ platform: "posix" }).overlays(dirs, base);
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    assert.strictEqual(r.status, 0, r.stderr);
    return parseOverlayRecords(r.stdout);
  };
  const backingOf = (found: ReturnType<typeof search>, file: string) => found.candidates.filter((c) => c.file === file).map((c) => c.backing);
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "overlay-header-"));
    mkdirSync(path.join(root, "w/disks"), { recursive: true });
    img("qcow2", path.join(root, "base.qcow2"), "1M");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("names each image's backing file as QEMU resolves it, and none for what has none", () => {
    const base = path.join(root, "base.qcow2");
    img("qcow2", "-b", base, "-F", "qcow2", path.join(root, "w/abs.qcow2"));
    img("qcow2", "-b", "../../base.qcow2", "-F", "qcow2", path.join(root, "w/disks/rel.qcow2"));
    img("qcow2", path.join(root, "w/plain.qcow2"), "1M");
    writeFileSync(path.join(root, "w/raw.qcow2"), Buffer.alloc(4096));
    const found = search([path.join(root, "w")], base);
    assert.deepStrictEqual(found.unreadable, []);
    assert.deepStrictEqual(backingOf(found, path.join(root, "w/abs.qcow2")), [base]);
    assert.deepStrictEqual(backingOf(found, path.join(root, "w/disks/rel.qcow2")), [`${root}/w/disks/../../base.qcow2`]);
    assert.deepStrictEqual(backingOf(found, path.join(root, "w/plain.qcow2")), [undefined]);
    assert.deepStrictEqual(backingOf(found, path.join(root, "w/raw.qcow2")), [undefined]);
  });

  it("a header cut short, or a backing name past the file's end, cannot be judged: the search says so", () => {
    const head = spawnSync("head", ["-c", "12", path.join(root, "base.qcow2")]).stdout;
    writeFileSync(path.join(root, "w/short.qcow2"), head);
    // A qcow2 header naming a 100-byte backing name at offset 200 of a 64-byte file.
    const bad = Buffer.alloc(64);
    bad.write("QFI\xfb", 0, "latin1");
    bad.writeUInt32BE(3, 4);
    bad.writeBigUInt64BE(200n, 8);
    bad.writeUInt32BE(100, 16);
    writeFileSync(path.join(root, "w/past-end.qcow2"), bad);
    const found = search([path.join(root, "w")], path.join(root, "base.qcow2"));
    assert.ok(found.unreadable.some((u) => u.startsWith(path.join(root, "w/short.qcow2")) && /cut short/.test(u)), JSON.stringify(found.unreadable));
    assert.ok(found.unreadable.some((u) => u.startsWith(path.join(root, "w/past-end.qcow2")) && /cannot read whole/.test(u)), JSON.stringify(found.unreadable));
  });

  it("a disk's directory under the working directory is walked once; one reached through a link is walked too", () => {
    const base = path.join(root, "base.qcow2");
    img("qcow2", "-b", base, "-F", "qcow2", path.join(root, "w/disks/c.qcow2"));
    // find follows no link inside the working directory, but a path through one is walked when named.
    mkdirSync(path.join(root, "elsewhere/sub"), { recursive: true });
    img("qcow2", "-b", base, "-F", "qcow2", path.join(root, "elsewhere/sub/d.qcow2"));
    symlinkSync(path.join(root, "elsewhere"), path.join(root, "w/link"));
    const found = search([path.join(root, "w"), path.join(root, "w/disks"), path.join(root, "w"), path.join(root, "w/link/sub")], base);
    assert.deepStrictEqual(found.unreadable, []);
    assert.deepStrictEqual(found.candidates.map((c) => c.file).sort(), [path.join(root, "w/disks/c.qcow2"), path.join(root, "w/link/sub/d.qcow2")]);
  });
});
