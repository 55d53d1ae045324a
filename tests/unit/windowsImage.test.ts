/**
 * Image on a replayed Windows host (tests/helpers/windowsReplayTransport.ts: a model answers
 * image-fetch.ps1 and the file scripts; no PowerShell runs here, the script itself is checked by
 * its golden). What this proves is the provider's side: what it sends (the URL only on stdin),
 * how it reads the script's answers, and that the header check and the promote run on Windows too.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import { gzipSync } from "zlib";
import * as image from "../../provider/resources/image";
import type { Connection } from "../../provider/transport";
import { overrideTransports } from "../helpers/transportOverride";
import { WindowsReplayTransport } from "../helpers/windowsReplayTransport";

const workDir = "C:/Users/ops/My VMs";
const cache = `${workDir}/images/cache`;
const host: Connection = { kind: "ssh", host: "win11.lab", port: 22, user: "ops", privateKey: "not used: replayed", insecureAcceptAnyHostKey: true, platform: "windows", workDir } as Connection;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A qcow2 v2 header of a 1 GiB image, naming `backing` when given. */
function qcow2(backing?: string): Buffer {
  const b = Buffer.alloc(4096);
  b.write("QFI\xfb", 0, "latin1");
  b.writeUInt32BE(2, 4);
  b.writeBigUInt64BE(BigInt(2 ** 30), 24);
  if (backing) {
    b.writeBigUInt64BE(512n, 8);
    b.writeUInt32BE(backing.length, 16);
    b.write(backing, 512);
  }
  return b;
}

describe("Image on a Windows host (replayed: the provider's side; image-fetch.ps1 by its golden)", () => {
  const win = new WindowsReplayTransport("windows-11-whpx.json");
  const left = () => [...win.files.keys()].filter((f) => f.startsWith(`${cache}/`) && !f.includes("/.ca-"));
  before(() => overrideTransports((c) => (c.kind === "ssh" && c.host === "win11.lab" ? win : undefined)));
  after(() => overrideTransports(undefined));

  it("fetches a gzip'd image once: the URL only on the script's stdin; a second stack finds it cached", async () => {
    const raw = qcow2();
    const published = gzipSync(raw);
    const url = "https://mirror.lab/debian-12.qcow2.gz?X-Signature=s3cr3t";
    win.web.set(url, published);
    const first = await image.create({ host, url, sha256: sha256(published) });
    assert.strictEqual(first.outs.path, `${cache}/sha256-${sha256(published)}.qcow2`);
    assert.deepStrictEqual([first.outs.fetchedBy, first.outs.format, first.outs.virtualSizeBytes], ["host", "qcow2", 2 ** 30]);
    assert.deepStrictEqual(win.files.get(first.outs.path), raw, "the entry is not the decompressed image");
    const i = win.scripts.findIndex((s) => s.startsWith("# pulumi-qemu image-fetch"));
    assert.ok(i >= 0, "image-fetch.ps1 was not sent");
    assert.strictEqual(win.stdins[i], `${url}\n`);
    assert.ok(win.scripts.every((s) => !s.includes("s3cr3t")), "the signed URL is in a script");
    assert.match(win.scripts[i], /^\$compression = 'gz'$/m);
    assert.deepStrictEqual(left(), [first.outs.path], "a .part or .ready file was left");
    const second = await image.create({ host, url, sha256: sha256(published) });
    assert.strictEqual(second.outs.fetchedBy, "cache");
    assert.deepStrictEqual(win.downloads, [url]);
  });

  it("a wrong digest, a 404 and a header naming a host file: each refused naming its property, nothing kept", async () => {
    const before = left();
    const good = qcow2();
    win.web.set("https://mirror.lab/a.qcow2", good);
    const wrong = "0".repeat(64);
    await assert.rejects(image.create({ host, url: "https://mirror.lab/a.qcow2", sha256: wrong }),
      (e: Error) => /^sha256: .*the file's sha256 is [0-9a-f]{64}, not the declared 0{64}/.test(e.message) && e.message.includes(sha256(good)));
    await assert.rejects(image.create({ host, url: "https://mirror.lab/gone.qcow2", sha256: wrong }),
      (e: Error) => /^url: .*failed, nothing was kept: curl: \(22\)[^\n]*404/.test(e.message));
    const backed = qcow2("C:/Windows/System32/config/SAM");
    win.web.set("https://mirror.lab/backed.qcow2", backed);
    await assert.rejects(image.create({ host, url: "https://mirror.lab/backed.qcow2", sha256: sha256(backed) }),
      (e: Error) => /^url: .*names a backing file "C:\/Windows\/System32\/config\/SAM"/.test(e.message));
    assert.deepStrictEqual(left(), before);
  });

  it("an xz image on a host without xz.exe says which tool to install; a private CA reaches curl.exe as a file", async () => {
    const published = qcow2();
    win.web.set("https://mirror.lab/a.qcow2.xz", published);
    await assert.rejects(image.create({ host, url: "https://mirror.lab/a.qcow2.xz", sha256: sha256(published) }), /xz\.exe is not on the host's PATH/);
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    win.web.set("https://mirror.lab/b.raw", Buffer.alloc(8192));
    const r = await image.create({ host, url: "https://mirror.lab/b.raw", sha256: sha256(Buffer.alloc(8192)), format: "raw", caCertificate: ca });
    const sent = win.scripts.filter((s) => s.startsWith("# pulumi-qemu image-fetch")).pop()!;
    const caFile = /^\$cafile = '(.+)'$/m.exec(sent)?.[1];
    assert.ok(caFile?.startsWith(`${cache}/.ca-`), `no CA file in the script: ${caFile}`);
    assert.strictEqual(win.files.get(caFile!)?.toString(), ca);
    assert.strictEqual(r.outs.format, "raw");
  });
});
