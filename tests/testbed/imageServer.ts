/**
 * The image mirror of the testbed: an HTTP and an HTTPS server (a test CA's certificate) run in a
 * test host's network namespace (tests/helpers/imageServer.ts starts it), serving the files of one
 * directory with byte ranges, and counting what it served per path so that a test can tell how
 * many downloads a host made. Control (from the Pulumi side): GET /__stats, POST
 * /__cut?path=P&after=N, which makes the next GET of P end its connection after N bytes, and
 * POST /__slow?path=P&rate=B, which serves P at about B bytes a second from then on.
 *   node imageServer.js DIR HTTP_PORT HTTPS_PORT CERT_DIR
 */
import { createReadStream, existsSync, readFileSync, statSync } from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";

interface Served { requests: number; bytes: number; ranges: string[] }

const [dir, httpPort, httpsPort, certDir] = process.argv.slice(2);
const stats: Record<string, Served> = {};
const cuts = new Map<string, number>();
const rates = new Map<string, number>();

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname === "/__stats") return void res.end(JSON.stringify(stats));
  if (url.pathname === "/__cut" && req.method === "POST") {
    cuts.set(url.searchParams.get("path") ?? "", Number(url.searchParams.get("after")));
    return void res.end("armed");
  }
  if (url.pathname === "/__slow" && req.method === "POST") {
    rates.set(url.searchParams.get("path") ?? "", Number(url.searchParams.get("rate")));
    return void res.end("slowed");
  }
  const file = path.join(dir, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ""));
  const seen = (stats[url.pathname] ??= { requests: 0, bytes: 0, ranges: [] });
  seen.requests++;
  if (!existsSync(file) || !statSync(file).isFile()) {
    res.statusCode = 404;
    return void res.end("not found");
  }
  const size = statSync(file).size;
  const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ""));
  const start = range ? Number(range[1]) : 0;
  if (range) seen.ranges.push(String(req.headers.range));
  if (start >= size && range) {
    res.writeHead(416, { "content-range": `bytes */${size}` });
    return void res.end();
  }
  res.writeHead(range ? 206 : 200, { "content-length": size - start, "accept-ranges": "bytes", ...(range ? { "content-range": `bytes ${start}-${size - 1}/${size}` } : {}) });
  if (req.method === "HEAD") return void res.end();
  const cutAfter = cuts.get(url.pathname);
  cuts.delete(url.pathname);
  let sent = 0;
  const rate = rates.get(url.pathname);
  const stream = createReadStream(file, { start, highWaterMark: rate ? 16384 : 65536 });
  stream.on("data", (chunk: string | Buffer) => {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    if (cutAfter !== undefined && sent + b.length > cutAfter) {
      const part = b.subarray(0, Math.max(0, cutAfter - sent));
      seen.bytes += part.length;
      stream.destroy();
      res.write(part, () => res.socket?.destroy());
      return;
    }
    sent += b.length;
    seen.bytes += b.length;
    if (rate) {
      stream.pause();
      res.write(b);
      setTimeout(() => stream.resume(), (b.length / rate) * 1000);
      return;
    }
    if (!res.write(b)) { stream.pause(); res.once("drain", () => stream.resume()); }
  });
  stream.on("end", () => res.end());
  res.on("close", () => stream.destroy()); // the client went away: stop reading
}

http.createServer(handle).listen(Number(httpPort), "0.0.0.0", () => {
  https.createServer({ key: readFileSync(path.join(certDir, "server.key")), cert: readFileSync(path.join(certDir, "server.crt")) }, handle)
    .listen(Number(httpsPort), "0.0.0.0", () => console.log("listening"));
});
