/**
 * Only a VM's (or a network switch's) own state directory is ever removed whole: a layout whose
 * directory is anywhere else is refused before anything runs, by removeStateDir and by a delete's
 * stop (stopVm with removeState). Real files, the real local transport.
 */
import * as assert from "assert";
import { vmHandle } from "../../provider/vm/handle";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { vmLayout } from "../../provider/layout";
import { LocalTransport } from "../../provider/transport";
import { removeStateDir, stopVm } from "../../provider/vm/execute";

describe("state directory guard", () => {
  let root: string;
  before(() => { root = mkdtempSync(path.join(tmpdir(), "pq-guard-")); });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A layout of VM `name` whose directory is `dir` (made, with a file in it). */
  function layoutAt(dir: string) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "keep.txt"), "data");
    return { ...vmLayout(root, "web"), dir };
  }

  const outside = () => [path.join(root, "disks"), path.join(root, "vms"), `${root}/vms/web/..`, `${root}/vms/..`, path.join(root, "networks", "n")];

  it("removeStateDir refuses any directory but vms/NAME, and the files stay", async () => {
    for (const dir of outside()) {
      const layout = layoutAt(dir);
      await assert.rejects(removeStateDir(vmHandle(new LocalTransport(), layout, "web")), /refusing to remove .*: not a VM state directory/, dir);
      assert.ok(existsSync(path.join(dir, "keep.txt")), `${dir} lost its file`);
    }
  });

  it("a delete's stop (removeState) refuses it before it looks at the host", async () => {
    for (const dir of outside()) {
      const layout = layoutAt(dir);
      await assert.rejects(stopVm(vmHandle(new LocalTransport(), layout, "web"), {}, undefined, { removeState: "vms" }), /refusing to remove .*: not a VM state directory/, dir);
      assert.ok(existsSync(path.join(dir, "keep.txt")), `${dir} lost its file`);
    }
  });

  it("the VM's own state directory goes (nothing runs in it)", async () => {
    const layout = layoutAt(vmLayout(root, "web").dir);
    await stopVm(vmHandle(new LocalTransport(), layout, "web"), {}, undefined, { removeState: "vms" });
    assert.ok(!existsSync(layout.dir));
    assert.ok(existsSync(root));
  });
});
