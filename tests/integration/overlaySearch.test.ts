/**
 * The search for a base's clones (provider/scripts/disk-overlays.sh, run here by the local sh and
 * find) while its directory changes: one destroy deletes several Disks of one working directory at
 * once, so an image or a VM's directory can vanish under another Disk's search (seen in CI: a raw
 * Disk's delete refused with "find exited 1" while a sibling Disk was deleted). A vanished entry
 * is no clone; a directory the search cannot read still refuses the delete.
 *
 * qemu-img is replaced by a stand-in first in PATH (it answers "{}", no backing file) that, at its
 * first call, deletes every sibling of the directory it was asked about. find passes its images to
 * qemu-img in batches and waits for each; the batch fills inside the first directory it walks, so
 * the other one is deleted after find listed it and before it went in, whichever comes first.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseOverlayRecords } from "../../provider/disks/scripts";
import { hostOps } from "../../provider/platform";
import { skipBecause } from "../helpers/skip";

const STAND_IN = `#!/bin/sh
for f do :; done
top=$(dirname "$(dirname "$f")")
if [ ! -e "$top.deleted" ]; then
  : > "$top.deleted"
  for x in "$top"/*; do [ "$x" = "$(dirname "$f")" ] || rm -rf "$x"; done
fi
echo "{}"
`;

describe("the clone search while its directory changes (local sh and find, a stand-in qemu-img)", function () {
  this.timeout(120000);
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "overlay-search-"));
    mkdirSync(path.join(root, "bin"));
    writeFileSync(path.join(root, "bin/qemu-img"), STAND_IN, { mode: 0o755 });
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
    assert.ok(existsSync(path.join(root, "work.deleted")), "the stand-in qemu-img never ran");
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
