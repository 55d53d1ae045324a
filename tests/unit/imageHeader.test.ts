/**
 * Images whose header names another file (issue 28): a qcow2 with a backing file or an external
 * data file, made by the real qemu-img, is refused as a Disk's source and a Fleet's base image,
 * naming the property; a plain qcow2 or raw image passes; the opt-in lets it through.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { check as checkDisk } from "../../provider/resources/disk";
import { localFileHead } from "../../provider/localFile";
import { HEADER_BYTES, references } from "../../provider/qemu/imageHeader";
import { baseImageFile } from "../../sdk/fleet";

describe("image headers that name other files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pq-header-"));
  const img = (name: string, ...args: string[]) => {
    const file = path.join(dir, name);
    execFileSync("qemu-img", ["create", "-q", ...args, file, "1M"]);
    return file;
  };
  after(() => rmSync(dir, { recursive: true, force: true }));

  const files = () => {
    const plain = img("plain.qcow2", "-f", "qcow2");
    return {
      plain,
      v2: img("v2.qcow2", "-f", "qcow2", "-o", "compat=0.10"),
      backed: img("backed.qcow2", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw"),
      backedV2: img("backed-v2.qcow2", "-f", "qcow2", "-o", "compat=0.10", "-b", plain, "-F", "qcow2"),
      data: img("data.qcow2", "-f", "qcow2", "-o", `data_file=${path.join(dir, "data.raw")}`),
      qed: img("old.qed", "-f", "qed"),
      raw: img("disk.raw", "-f", "raw"),
    };
  };

  it("names each file the header makes QEMU open (table over real qemu-img images)", () => {
    const f = files();
    const cases: Array<[string, string, string[]]> = [
      ["plain qcow2 v3", f.plain, []],
      ["plain qcow2 v2", f.v2, []],
      ["backing file", f.backed, ['a backing file "/etc/shadow"']],
      ["backing file, v2 header", f.backedV2, [`a backing file ${JSON.stringify(f.plain)}`]],
      ["external data file", f.data, ["an external data file"]],
      ["QED", f.qed, ["a QED header (it may name a backing file)"]],
      ["raw", f.raw, []],
    ];
    for (const [what, file, expected] of cases) assert.deepStrictEqual(references(localFileHead(file, HEADER_BYTES)), expected, what);
    assert.deepStrictEqual(references(localFileHead(f.backed, 100)), ["a backing file"], "a head too short for the name still tells");
  });

  it("a Disk's source that names another file is refused naming source, unless allowExternalFiles; a Fleet's base image too", async () => {
    const f = files();
    const disk = (source: string, extra = {}) => checkDisk(undefined, { host: { kind: "local", workDir: "/w" }, name: "d", source, ...extra });
    const failed = await disk(f.backed);
    assert.deepStrictEqual(failed.failures?.map((x) => x.property), ["source"]);
    assert.match(failed.failures![0].reason, /header names a backing file "\/etc\/shadow", which QEMU would open on the host .* set allowExternalFiles: true if you mean it/);
    assert.deepStrictEqual((await disk(f.data)).failures?.map((x) => x.property), ["source"]);
    assert.strictEqual((await disk(f.backed, { allowExternalFiles: true })).failures, undefined);
    assert.strictEqual((await disk(f.plain)).failures, undefined);
    assert.strictEqual((await disk(path.join(dir, "absent.qcow2"))).failures, undefined, "a source that is not there is the upload's to report");
    assert.throws(() => baseImageFile(f.backed), (e: Error & { property?: string }) => e.property === "template.baseImage" && /backing file "\/etc\/shadow"/.test(e.message));
    assert.strictEqual(baseImageFile(f.plain).format, "qcow2");
    writeFileSync(path.join(dir, "tiny.raw"), "x");
    assert.strictEqual(baseImageFile(path.join(dir, "tiny.raw")).format, "raw");
  });
});
