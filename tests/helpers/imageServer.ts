/**
 * Starts the testbed's image mirror (tests/testbed/imageServer.ts) in a test host's network
 * namespace: the other hosts reach it on the private LAN, the Pulumi side on the host's own
 * address. Makes a test CA and a server certificate for both addresses with openssl.
 */
import { execFileSync, spawn, type ChildProcess } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as http from "http";
import type { TestHost } from "../testbed/testbed";

export interface ImageMirror {
  /** A URL the test hosts reach (the serving host's LAN address). */
  lanUrl(file: string, tls?: boolean): string;
  /** A URL only the Pulumi side reaches (the serving host's own address: the other hosts have no route to it). */
  clientUrl(file: string): string;
  /** The test CA's certificate (PEM). */
  caPem: string;
  stats(): Promise<Record<string, { requests: number; bytes: number; ranges: string[] }>>;
  /** The next GET of `file` ends its connection after `after` bytes. */
  cutNext(file: string, after: number): Promise<void>;
  /** Serves `file` at about `bytesPerSecond` from now on. */
  slow(file: string, bytesPerSecond: number): Promise<void>;
  stop(): void;
}

function makeCertificates(dir: string, addresses: string[]): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=pulumi-qemu test CA");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=pulumi-qemu image mirror");
  require("fs").writeFileSync(path.join(dir, "san.ext"), `subjectAltName=${addresses.map((a) => `IP:${a}`).join(",")}\n`);
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
}

function request(method: string, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function startImageMirror(host: TestHost, filesDir: string, ports = { http: 18080, https: 18443 }): Promise<ImageMirror> {
  const certDir = mkdtempSync(path.join(tmpdir(), "pq-mirror-certs-"));
  makeCertificates(certDir, [host.lanAddress, host.address]);
  const script = path.join(__dirname, "../testbed/imageServer.js");
  const child: ChildProcess = spawn("ip", ["netns", "exec", `pqemu-${host.name}`, process.execPath, script, filesDir, String(ports.http), String(ports.https), certDir], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`the image mirror ended (exit ${code}) before it listened`)));
  });
  const control = `http://${host.address}:${ports.http}`;
  return {
    lanUrl: (file, tls = false) => `${tls ? "https" : "http"}://${host.lanAddress}:${tls ? ports.https : ports.http}/${file}`,
    clientUrl: (file) => `${control}/${file}`,
    caPem: readFileSync(path.join(certDir, "ca.crt"), "utf8"),
    stats: async () => JSON.parse(await request("GET", `${control}/__stats`)),
    cutNext: async (file, after) => void await request("POST", `${control}/__cut?path=${encodeURIComponent(`/${file}`)}&after=${after}`),
    slow: async (file, rate) => void await request("POST", `${control}/__slow?path=${encodeURIComponent(`/${file}`)}&rate=${rate}`),
    stop: () => { child.kill("SIGKILL"); rmSync(certDir, { recursive: true, force: true }); },
  };
}
