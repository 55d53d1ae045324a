/**
 * Issue 30, images by URL: Image through the serialized provider against real sshd test hosts,
 * each downloading with its own curl from the testbed's mirror (HTTP and HTTPS with a test CA)
 * in h3's network namespace, counted on the server.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { imageCacheDir } from "../../provider/layout";
import { imageProvider } from "../../sdk/image";
import { removeUnusedImages } from "../../provider/resources/image";
import { enableProgress } from "../../provider/progress";
import { diskProvider } from "../../sdk/disk";
import { roundTripProvider } from "../helpers/dynamicProvider";
import { startImageMirror, type ImageMirror } from "../helpers/imageServer";
import { imageCacheFiles } from "../helpers/hostFiles";
import { sshOptionsFor, testbed } from "../testbed/testbed";

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("Image: a URL and its digest, fetched by the host into its cache (real curl over SSH, test mirror)", function () {
  this.timeout(180000);
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const files = mkdtempSync(path.join(tmpdir(), "pq-images-"));
  const conn = (i: number): Connection => ({ kind: "ssh", ...sshOptionsFor(bed.hosts[i]), workDir: `${bed.hosts[i].workDir}/image-${run}` });
  const onHost = (i: number) => sshTransport(sshOptionsFor(bed.hosts[i]));
  const cacheOf = (i: number) => imageCacheDir(conn(i).workDir!);
  const owner = (stack: string) => ({ project: "lab", stack, resource: "img" });
  let mirror: ImageMirror;
  let imageP: pulumi.dynamic.ResourceProvider;
  let diskP: pulumi.dynamic.ResourceProvider;
  const digests: Record<string, string> = {};

  before(async () => {
    // 8 MiB of random data as qcow2 (a cut at 3 MiB is mid-file), its xz, a qcow2 naming a backing file, a raw file.
    const raw = path.join(files, "data.raw");
    writeFileSync(raw, randomBytes(8 * 2 ** 20));
    execFileSync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, path.join(files, "good.qcow2")]);
    execFileSync("sh", ["-c", 'xz -0 -T1 -k -c "$1" > "$1.xz"', "x", path.join(files, "good.qcow2")]);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", path.join(files, "backed.qcow2")]);
    writeFileSync(path.join(files, "plain.raw"), randomBytes(2 ** 20));
    for (const f of ["good.qcow2", "good.qcow2.xz", "backed.qcow2", "plain.raw"]) digests[f] = sha256(path.join(files, f));
    mirror = await startImageMirror(bed.hosts[2], files);
    imageP = (await roundTripProvider(imageProvider)).provider;
    diskP = (await roundTripProvider(diskProvider)).provider;
  });
  after(async () => {
    mirror?.stop();
    rmSync(files, { recursive: true, force: true });
    await Promise.all([0, 1, 2].map((i) => onHost(i).exec(["rm", "-rf", "--", conn(i).workDir!]).catch(() => undefined)));
    await closeAllSshTransports();
  });

  const cacheFiles = (i: number) => imageCacheFiles(conn(i).workDir!);

  it("two stacks on each of three hosts ask at once: each host downloads once, the rest wait and share it; a clone is made on it; delete keeps it", async () => {
    const url = mirror.lanUrl("good.qcow2");
    const made = await Promise.all([0, 1, 2].flatMap((i) => ["a", "b"].map((stack) =>
      imageP.create!({ host: conn(i), url, sha256: digests["good.qcow2"], owner: owner(stack) }))));
    const served = (await mirror.stats())["/good.qcow2"];
    assert.strictEqual(served.requests, 3, `the mirror served ${served.requests} downloads for 3 hosts`);
    assert.strictEqual(served.bytes, 3 * readFileSync(path.join(files, "good.qcow2")).length);
    for (const i of [0, 1, 2]) {
      const mine = made.slice(2 * i, 2 * i + 2).map((m) => m.outs);
      assert.deepStrictEqual(mine.map((o) => o.fetchedBy).sort(), ["cache", "host"], `host ${i}: ${mine.map((o) => o.fetchedBy)}`);
      assert.strictEqual(mine[0].path, `${cacheOf(i)}/sha256-${digests["good.qcow2"]}.qcow2`);
      const there = await onHost(i).exec(["sha256sum", mine[0].path]);
      assert.strictEqual(there.stdout.split(" ")[0], digests["good.qcow2"]);
      assert.deepStrictEqual(await cacheFiles(i), [`.sha256-${digests["good.qcow2"]}.qcow2.owners`, `sha256-${digests["good.qcow2"]}.qcow2`]);
    }
    const clone = await diskP.create!({ host: conn(0), name: "member", backingImage: made[0].outs.path, owner: owner("a") });
    assert.strictEqual(clone.outs.backingFile, made[0].outs.path);
    await imageP.delete!(made[0].id, made[0].outs);
    await imageP.delete!(made[1].id, made[1].outs);
    assert.strictEqual((await onHost(0).exec(["test", "-f", made[0].outs.path])).exitCode, 0, "delete removed the cached image");
    await diskP.delete!(clone.id, clone.outs);
  });

  it("over HTTPS with the mirror's own CA, xz-compressed: checked, decompressed, cached; without the CA refused naming url, nothing kept", async () => {
    const url = mirror.lanUrl("good.qcow2.xz", true);
    const workDir = `${conn(1).workDir}-tls`;
    const host = { ...conn(1), workDir };
    await assert.rejects(imageP.create!({ host, url, sha256: digests["good.qcow2.xz"], owner: owner("a") }),
      (e: Error) => /^url: /.test(e.message) && /certificate/i.test(e.message) && /nothing was kept/.test(e.message));
    assert.deepStrictEqual(await imageCacheFiles(workDir), []);
    const made = await imageP.create!({ host, url, sha256: digests["good.qcow2.xz"], caCertificate: mirror.caPem, owner: owner("a") });
    assert.strictEqual(made.outs.fetchedBy, "host");
    const there = await onHost(1).exec(["sha256sum", made.outs.path]);
    assert.strictEqual(there.stdout.split(" ")[0], digests["good.qcow2"], "the cached file is not the decompressed image");
    await onHost(1).exec(["rm", "-rf", "--", workDir]);
  });

  it("a wrong digest, a 404, a header naming a backing file and a raw file declared qcow2: each refused naming its property, nothing kept", async () => {
    const host = conn(0);
    const before = await cacheFiles(0);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: mirror.lanUrl("good.qcow2"), sha256: "0".repeat(64) }, new RegExp(`^sha256: .*the file's sha256 is ${digests["good.qcow2"]}, not the declared 0{64}; nothing was kept`)],
      [{ url: mirror.lanUrl("missing.qcow2"), sha256: "1".repeat(64) }, /^url: .*fetching .*missing\.qcow2 failed, nothing was kept: .*404/],
      [{ url: mirror.lanUrl("backed.qcow2"), sha256: digests["backed.qcow2"] }, /^url: .*its header names a backing file "\/etc\/hostname".*nothing was kept/],
      [{ url: mirror.lanUrl("plain.raw"), sha256: digests["plain.raw"] }, /^format: .*is not a qcow2 image.*nothing was kept/],
    ];
    for (const [args, expected] of cases) {
      await assert.rejects(imageP.create!({ host, owner: owner("a"), ...args }), (e: Error) => expected.test(e.message) || assert.fail(e.message));
      assert.deepStrictEqual(await cacheFiles(0), before, `left behind after ${JSON.stringify(args)}`);
    }
    // A bad declaration never reaches the host: check names the property.
    const checked = await imageP.check!({}, { host, url: "ftp://x/y", sha256: "z" });
    assert.deepStrictEqual(checked.failures?.map((f) => f.property).sort(), ["sha256", "url"]);
  });

  it("a download cut off half-way fails the create and keeps what arrived beside the entry; the next create resumes from there", async () => {
    const host = { ...conn(2), workDir: `${conn(2).workDir}-cut` };
    const size = readFileSync(path.join(files, "good.qcow2")).length;
    const before = (await mirror.stats())["/good.qcow2"] ?? { requests: 0, bytes: 0, ranges: [] };
    await mirror.cutNext("good.qcow2", 3 * 2 ** 20);
    await assert.rejects(imageP.create!({ host, url: mirror.lanUrl("good.qcow2"), sha256: digests["good.qcow2"], owner: owner("a") }), /cut off .*the next fetch resumes it/);
    const left = await imageCacheFiles(host.workDir!);
    assert.deepStrictEqual(left, [`.sha256-${digests["good.qcow2"]}.qcow2.part`], "no half file at the final path, the part kept");
    const made = await imageP.create!({ host, url: mirror.lanUrl("good.qcow2"), sha256: digests["good.qcow2"], owner: owner("a") });
    assert.strictEqual(made.outs.fetchedBy, "host");
    const after = (await mirror.stats())["/good.qcow2"];
    assert.deepStrictEqual(after.ranges.slice(before.ranges.length), [`bytes=${3 * 2 ** 20}-`], "the second fetch did not resume");
    assert.strictEqual(after.bytes - before.bytes, size, "more than the file's size was downloaded in all");
    await onHost(2).exec(["rm", "-rf", "--", host.workDir!]);
  });

  it("a URL only the Pulumi side reaches: the host's own fetch fails naming url; via client it is streamed, checked and cached", async () => {
    const host = { ...conn(0), workDir: `${conn(0).workDir}-client` };
    const url = mirror.clientUrl("good.qcow2");
    await assert.rejects(imageP.create!({ host, url, sha256: digests["good.qcow2"], timeoutMs: 20000, owner: owner("a") }), /url: .*failed, nothing was kept/);
    const made = await imageP.create!({ host, url, sha256: digests["good.qcow2"], via: "client", owner: owner("a") });
    assert.strictEqual(made.outs.fetchedBy, "client");
    assert.strictEqual((await onHost(0).exec(["sha256sum", made.outs.path])).stdout.split(" ")[0], digests["good.qcow2"]);
    assert.deepStrictEqual(await imageCacheFiles(host.workDir!),
      [`.sha256-${digests["good.qcow2"]}.qcow2.owners`, `sha256-${digests["good.qcow2"]}.qcow2`]);
    await onHost(0).exec(["rm", "-rf", "--", host.workDir!]);
  });

  it("gc --images removes a cache entry nothing uses, and keeps one a stack's Image or a clone uses, saying why", async () => {
    const entry = `sha256-${digests["good.qcow2"]}.qcow2`;
    const logged: string[] = [];
    // h1: both uses were released by the first test and its clone deleted; h2: two stacks still use it.
    await removeUnusedImages(onHost(0), conn(0).workDir!, (m) => logged.push(m));
    await removeUnusedImages(onHost(1), conn(1).workDir!, (m) => logged.push(m));
    assert.deepStrictEqual(await cacheFiles(0), [], logged.join("\n"));
    assert.ok(logged.some((m) => /kept, used by project lab, stack (a|b), resource img; project lab, stack (?!\1)(a|b), resource img$/.test(m)), logged.join("\n"));
    assert.deepStrictEqual(await cacheFiles(1), [`.${entry}.owners`, entry]);
    // h3, a working directory of its own: a clone alone keeps it.
    const host = { ...conn(2), workDir: `${conn(2).workDir}-gc` };
    const made = await imageP.create!({ host, url: mirror.lanUrl("good.qcow2"), sha256: digests["good.qcow2"], owner: owner("c") });
    const clone = await diskP.create!({ host, name: "member", backingImage: made.outs.path, owner: owner("c") });
    await imageP.delete!(made.id, made.outs);
    logged.length = 0;
    await removeUnusedImages(onHost(2), host.workDir, (m) => logged.push(m));
    assert.ok(logged.some((m) => /kept, it is the backing file of .*member/.test(m)), logged.join("\n"));
    await diskP.delete!(clone.id, clone.outs);
    await removeUnusedImages(onHost(2), host.workDir, () => undefined);
    assert.deepStrictEqual(await imageCacheFiles(host.workDir), []);
    await onHost(2).exec(["rm", "-rf", "--", host.workDir]);
  });

  it("a slow download reports its progress, stops at timeoutMs keeping what arrived, and the next create resumes it", async () => {
    const host = { ...conn(1), workDir: `${conn(1).workDir}-slow` };
    const entry = `sha256-${digests["good.qcow2"]}.qcow2`;
    await mirror.slow("good.qcow2", 2 ** 20); // 8 MiB at 1 MiB/s: about 8 s
    const lines: string[] = [];
    const log = console.log;
    enableProgress(true);
    console.log = (m: unknown) => void lines.push(String(m));
    try {
      await assert.rejects(imageP.create!({ host, url: mirror.lanUrl("good.qcow2"), sha256: digests["good.qcow2"], timeoutMs: 7000, owner: owner("a") }),
        /ran past its time limit of 7 s after \d+ bytes; the next fetch resumes it \(raise timeoutMs/);
    } finally {
      console.log = log;
      enableProgress(false);
      await mirror.slow("good.qcow2", 0);
    }
    const reported = lines.filter((l) => /Image .*good\.qcow2: .* has downloaded [\d.]+ MiB/.test(l));
    assert.ok(reported.length >= 1 && !reported.some((l) => / 0\.0 MiB/.test(l)), lines.join("\n"));
    assert.deepStrictEqual(await imageCacheFiles(host.workDir), [`.${entry}.part`]);
    const made = await imageP.create!({ host, url: mirror.lanUrl("good.qcow2"), sha256: digests["good.qcow2"], owner: owner("a") });
    assert.strictEqual(made.outs.fetchedBy, "host");
    assert.match((await mirror.stats())["/good.qcow2"].ranges.slice(-1)[0], /^bytes=[1-9]\d*-$/, "the fetch after the timeout did not resume");
    await onHost(1).exec(["rm", "-rf", "--", host.workDir]);
  });
});
