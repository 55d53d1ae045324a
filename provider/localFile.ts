/** Files on the machine running Pulumi (images to upload), read without holding them whole in memory. */
import { createHash } from "crypto";
import { closeSync, openSync, readSync } from "fs";

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
