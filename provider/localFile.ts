/** Files on the machine running Pulumi (images to upload), read without holding them whole in memory. */
import { createHash } from "crypto";
import { closeSync, createReadStream, openSync, readSync, statSync } from "fs";
import { Transform } from "stream";

function withFile<T>(file: string, use: (fd: number) => T): T {
  const fd = openSync(file, "r");
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/** sha256 (hex) of a local file, read in 4 MiB chunks: an image of several GiB never sits in memory. */
export function localFileSha256(file: string): string {
  return withFile(file, (fd) => {
    const hash = createHash("sha256");
    const chunk = Buffer.alloc(4 * 2 ** 20);
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, n));
    return hash.digest("hex");
  });
}

/** The first `length` bytes of a local file (fewer when it is shorter). */
export function localFileHead(file: string, length: number): Buffer {
  return withFile(file, (fd) => {
    const head = Buffer.alloc(length);
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  });
}

/**
 * A local file as a stream to send, in constant memory: its size, its sha256 once the stream has
 * ended, and `onBytes` told how far it got as chunks go by.
 */
export function meteredLocalFile(file: string, onBytes: (sent: number, size: number) => void): { stream: Transform; size: number; sha256(): string } {
  const size = statSync(file).size;
  const hash = createHash("sha256");
  let sent = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      sent += chunk.length;
      onBytes(sent, size);
      done(null, chunk);
    },
  });
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  source.on("error", (e) => meter.destroy(e));
  source.pipe(meter);
  return { stream: meter, size, sha256: () => hash.digest("hex") };
}
