/**
 * A large Disk upload through the real CLI to an SSH test host: streamed in constant memory,
 * with progress lines, checked by sha256 on the host.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Disk, Host } from "../../sdk";
import { watchPeakRss } from "../../bench/measure";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { sshOptionsFor, testbed } from "../testbed/testbed";
import { capture, withStack } from "./harness";

const SIZE = 3 * 2 ** 30;

describe("e2e: a 3 GiB image uploads in constant memory (real CLI, SSH test host)", function () {
  this.timeout(15 * 60 * 1000);
  const bed = testbed();
  const h1 = bed.hosts[0];
  const key = readFileSync(bed.clientKey, "utf8");
  const image = path.join(tmpdir(), `pq-upload-${randomBytes(4).toString("hex")}.img`);
  const target = `${h1.workDir}/upload-${randomBytes(4).toString("hex")}/big.img`;
  after(async () => {
    rmSync(image, { force: true });
    await sshTransport(sshOptionsFor(h1)).exec(["rm", "-rf", "--", path.dirname(target)]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("streams, reports progress, verifies the checksum; the provider's peak RSS stays under 200 MiB", async () => {
    // Sparse, with data at the start, the middle and the end, so that a wrong offset changes the sha256.
    const fd = openSync(image, "w");
    for (const at of [0, SIZE / 2, SIZE - 4096]) writeSync(fd, randomBytes(4096), 0, 4096, at);
    closeSync(fd);
    const program = async () => {
      const host = new Host("h1", { address: h1.address, user: bed.rootUser, privateKey: key, hostKey: h1.hostKey, workDir: h1.workDir });
      const disk = new Disk("big", { host: host.connection, source: image, format: "raw", path: target });
      return { size: disk.virtualSizeBytes };
    };
    await withStack("upload", program, async (h) => {
      const rss = watchPeakRss("cmd/dynamic-provider");
      const up = await h.stack.up(capture(h));
      const peakMiB = rss.stop() / 1024;
      console.log(`      provider peak RSS ${peakMiB.toFixed(0)} MiB for a ${SIZE / 2 ** 30} GiB upload`);
      assert.strictEqual(up.outputs.size.value, SIZE);
      assert.match(h.output(), /pulumi-qemu: Disk \S+big\.img: uploaded [\d.]+ of 3072\.0 MiB \(\d+%\)/);
      assert.match(h.output(), /pulumi-qemu: Disk \S+big\.img: uploaded and checksum verified/);
      assert.ok(peakMiB > 0 && peakMiB < 200, `peak RSS ${peakMiB} MiB`);
      const onHost = await sshTransport(sshOptionsFor(h1)).exec(["ls", "-a", "--", path.dirname(target)]);
      assert.doesNotMatch(onHost.stdout, /upload-|\.tmp-/, "a temp file is left beside the image");
      await h.stack.destroy(capture(h));
    });
  });
});
