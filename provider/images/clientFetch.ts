/**
 * `via: "client"`: the machine running Pulumi downloads the image (when the host cannot reach
 * the URL) into a private temp file, checking its digest as it arrives; the caller streams it
 * to the host, which checks it again. Follows a few redirects; bounded in time.
 */
import { createHash } from "crypto";
import { createWriteStream, mkdtempSync, rmSync } from "fs";
import * as http from "http";
import * as https from "https";
import { tmpdir } from "os";
import * as path from "path";
import { InvalidArgumentError, QemuError } from "../errors";
import type { DigestAlgorithm } from "./source";

const MAX_REDIRECTS = 5;

export interface ClientDownload {
  file: string;
  bytes: number;
  /** Removes the temp file and its directory. */
  dispose(): void;
}

function get(url: URL, ca: string | undefined, timeoutMs: number): Promise<http.IncomingMessage> {
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { ...(ca && url.protocol === "https:" ? { ca } : {}), timeout: Math.min(timeoutMs, 60000) }, resolve);
    req.on("timeout", () => req.destroy(new Error("no answer for 60 s")));
    req.on("error", reject);
  });
}

/** Downloads `url`, checks its digest, and returns the temp file; a failure leaves nothing. */
export async function downloadOnClient(url: URL, algorithm: DigestAlgorithm, hex: string, o: { ca?: string; timeoutMs: number; onBytes(received: number, total?: number): void }): Promise<ClientDownload> {
  const dir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-image-"));
  const file = path.join(dir, "image");
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  const deadline = Date.now() + o.timeoutMs;
  try {
    let at = url;
    for (let hops = 0; ; hops++) {
      let res: http.IncomingMessage;
      try {
        res = await get(at, o.ca, deadline - Date.now());
      } catch (e) {
        throw new InvalidArgumentError("url", `the machine running Pulumi could not fetch ${url.href}: ${(e as Error).message}`);
      }
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && hops < MAX_REDIRECTS) {
        res.resume();
        at = new URL(res.headers.location, at);
        continue;
      }
      if (status !== 200) {
        res.resume();
        throw new InvalidArgumentError("url", `the machine running Pulumi could not fetch ${url.href}: HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""}`);
      }
      const total = Number(res.headers["content-length"]) || undefined;
      const hash = createHash(algorithm);
      let received = 0;
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(file, { mode: 0o600 });
        const timer = setTimeout(() => res.destroy(new QemuError("TIMEOUT", `downloading ${url.href} took more than ${o.timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
        res.on("data", (chunk: Buffer) => {
          hash.update(chunk);
          received += chunk.length;
          o.onBytes(received, total);
        });
        res.on("error", (e) => { clearTimeout(timer); out.destroy(); reject(e); });
        res.on("aborted", () => { clearTimeout(timer); out.destroy(); reject(new Error(`the download of ${url.href} was cut off after ${received} bytes`)); });
        out.on("error", (e) => { clearTimeout(timer); reject(e); });
        out.on("finish", () => { clearTimeout(timer); resolve(); });
        res.pipe(out);
      });
      if (total !== undefined && received !== total) throw new QemuError("COMMAND_FAILED", `the download of ${url.href} was cut off after ${received} of ${total} bytes`);
      const got = hash.digest("hex");
      if (got !== hex) throw new InvalidArgumentError(algorithm, `${url.href}: the file's ${algorithm} is ${got}, not the declared ${hex}; nothing was kept`);
      return { file, bytes: received, dispose };
    }
  } catch (e) {
    dispose();
    throw e;
  }
}
