/**
 * What a change of each input does, as the `@change` tag of its doc comment in sdk/ says (the
 * docs' "A change" column and schema.json's replaceOnChanges come from those tags), checked
 * against the provider's own diff: each input is changed alone from a recorded state, and the
 * diff must replace, restart, update in place or do nothing, as the tag says.
 */
import * as assert from "assert";
import * as path from "path";
import * as disk from "../../provider/resources/disk";
import * as host from "../../provider/resources/host";
import * as caps from "../../provider/resources/hostCapabilities";
import * as image from "../../provider/resources/image";
import * as network from "../../provider/resources/network";
import * as snapshot from "../../provider/resources/snapshot";
import * as vm from "../../provider/resources/vm";
import * as guestCommand from "../../provider/resources/guestCommand";
import * as guestFile from "../../provider/resources/guestFile";
import * as warmState from "../../provider/resources/warmState";
import { createHash } from "crypto";
import { vmSpec } from "../../provider/vm/spec";
import { specChanges } from "../../provider/vm/plan";
import { imageCacheDir } from "../../provider/layout";
import { cacheEntryName } from "../../provider/images/source";
import type { Connection } from "../../provider/transport";

const ROOT = path.resolve(__dirname, "../../..");
const { changePolicies } = require(path.join(ROOT, "scripts/schema.js")) as { changePolicies(): Record<string, Record<string, string>> };

type Diff = { changes: boolean; replaces?: string[] };
const conn: Connection = { kind: "ssh", host: "h1", port: 22, user: "ops", privateKey: "k", workDir: "/w" } as Connection;
const other: Connection = { ...conn, host: "h2" } as Connection;
const hex = "ab".repeat(32);

/** Per resource: the recorded state, its inputs, another value for each input, and the diff. */
interface Case { olds: Record<string, unknown>; news: Record<string, unknown>; alt: Record<string, unknown>; diff(o: any, n: any): Promise<Diff>; restarts?(o: any, n: any): boolean }

const guestTarget = { host: conn, stateDir: "/w/vms/web.ab12", vm: "web.ab12" };
const vmBase = { host: conn, name: "web", memory: "256M", kernel: "/w/vmlinuz", networks: [{ type: "user" }], disks: ["/w/web.qcow2"], guestAgent: true };
const warmBase = { host: conn, baseImage: "/w/images/b.qcow2", memory: "256M", kernel: "/w/vmlinuz", nics: ["user"] };
const CASES: Record<string, Case> = {
  Host: {
    olds: { address: "h1", port: 22, user: "ops", privateKey: "k", workDir: "/w", workDirIsDefault: false, connection: conn },
    news: { address: "h1", port: 22, user: "ops", privateKey: "k", workDir: "/w" },
    alt: { address: "h2", port: 2222, user: "root", privateKey: "k2", passphrase: "p", password: "pw", agent: "/a.sock", hostKey: "SHA256:abc",
      knownHostsFile: "/kh", insecureAcceptAnyHostKey: true, jumpHosts: [{ address: "j", user: "u" }], connectTimeoutMs: 5000, keepaliveIntervalMs: 1000,
      retries: 1, maxChannels: 4, idleCloseMs: 1000, platform: "windows", workDir: "/w2", memoryOvercommit: 1.5 },
    diff: (o, n) => host.diff("id", o, n),
  },
  HostCapabilities: {
    olds: { host: conn, guestArch: "x86_64", hostFacts: { arch: "x86_64" } }, news: { host: conn },
    alt: { host: other, guestArch: "aarch64", reprobe: true },
    diff: (o, n) => caps.diff("id", o, n),
  },
  Disk: {
    olds: { host: conn, name: "d", format: "qcow2", virtualSizeBytes: 2 ** 30, ownerToken: "t0k3n", path: disk.pathOf({ host: conn, name: "d", ownerToken: "t0k3n" } as never) },
    news: { host: conn, name: "d", size: "1G" },
    alt: { host: other, name: "e", path: "/w/other.qcow2", format: "raw", size: "2G", backingImage: "/w/base.qcow2", backingFormat: "raw", source: "/tmp/x.img",
      allowExternalFiles: true, uploadTimeoutMs: 1000, allowShrink: true, shared: true },
    diff: (o, n) => disk.diff("id", o, n),
  },
  Image: {
    olds: { host: conn, url: "https://m/a.qcow2", sha256: hex, path: `${imageCacheDir("/w")}/${cacheEntryName("sha256", hex, "qcow2")}` },
    news: { host: conn, url: "https://m/a.qcow2", sha256: hex },
    alt: { host: other, url: "https://n/a.qcow2", sha256: "cd".repeat(32), sha512: "ef".repeat(64), format: "raw", compression: "xz",
      caCertificate: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----", via: "client", timeoutMs: 5000, allowExternalFiles: true },
    diff: (o, n) => image.diff("id", o, { ...n, ...(n.sha512 ? { sha256: undefined } : {}) }),
  },
  Network: {
    olds: { name: "lab", subnet: "10.0.0.0/24", hosts: [{ host: conn, address: "10.213.78.1" }], status: "running" },
    news: { name: "lab", subnet: "10.0.0.0/24", hosts: [{ host: conn, address: "10.213.78.1" }] },
    alt: { name: "lab2", subnet: "10.1.0.0/24", hosts: [{ host: conn, address: "10.213.78.2" }], port: 30000 },
    diff: (o, n) => network.diff("id", o, n),
  },
  Snapshot: {
    olds: { host: conn, vm: "web", name: "clean", revertTrigger: "1" }, news: { host: conn, vm: "web", name: "clean", revertTrigger: "1" },
    alt: { vm: "db", disk: "/w/d.qcow2", name: "other", memory: true, revertTrigger: "2" },
    diff: (o, n) => snapshot.diff("id", o, n),
  },
  Vm: {
    olds: { ...vmBase, state: "running", status: "running", spec: vmSpec(vmBase as never).spec }, news: vmBase,
    alt: { host: other, name: "db", arch: "aarch64", cpus: 2, memory: "512M", machine: "pc", cpu: "max", accelerator: "tcg", disks: [{ path: "/w/d.qcow2" }],
      cdrom: "/w/c.iso", kernel: "/w/vmlinuz2", initrd: "/w/initrd", append: "console=ttyS0", networks: [{ type: "user", ports: [{ guest: 80, host: 8080 }] }],
      ports: [{ guest: 22, host: 2222 }], extraArgs: ["-nographic"], cloudInit: { userData: "#cloud-config\n" }, state: "stopped",
      readiness: { serialPattern: "login:" }, stopTimeouts: { powerdownMs: 1000 }, guestUser: "u", guestPrivateKey: "k", guestSshPort: 2200,
      rolloutGroup: "g", adopt: true, expiresAfter: "2h", guestAgent: false, warmFrom: "/w/warm/0123" },
    diff: (o, n) => vm.diff("id", o, n),
    restarts: (o, n) => specChanges(o.spec, vmSpec(n).spec).length > 0,
  },
  WarmState: {
    olds: { ...warmBase, key: "ab", dir: "/w/warm/ab", disk: "/w/warm/ab/disk.qcow2", acceleratorInUse: "tcg", reused: false, buildMs: 1 }, news: warmBase,
    alt: { host: other, baseImage: "/w/images/c.qcow2", baseFormat: "raw", diskSize: "1G", arch: "aarch64", cpus: 2, memory: "512M", machine: "pc", cpu: "max",
      accelerator: "kvm", kernel: "/w/vmlinuz2", initrd: "/w/initrd", append: "quiet", extraArgs: ["-nographic"], nics: ["user", "private"], readiness: { guestPort: 22 },
      cloudInit: { userData: "#cloud-config\n" } },
    diff: (o, n) => warmState.diff("id", o, n),
  },
  GuestCommand: {
    olds: { ...guestTarget, create: "echo hi", stdout: "hi\n", stderr: "", exitCode: 0 }, news: { ...guestTarget, create: "echo hi" },
    alt: { vm: "db.cd34", create: "echo bye", update: "echo up", delete: "echo bye", environment: { A: "1" }, stdin: "x", timeout: "1m", triggers: [1], shell: "/bin/bash" },
    diff: (o, n) => guestCommand.diff("id", o, n),
  },
  GuestFile: {
    olds: { ...guestTarget, path: "/etc/a.conf", content: "a", sha256: createHash("sha256").update("a").digest("hex"), size: 1 },
    news: { ...guestTarget, path: "/etc/a.conf", content: "a" },
    alt: { vm: "db.cd34", path: "/etc/b.conf", content: "b", source: "/tmp/b.conf", mode: "0600", owner: "nobody", overwrite: true },
    diff: (o, n) => guestFile.diff("id", o, n),
  },
};

/** What the diff did with one input changed. */
async function effect(c: Case, key: string): Promise<string> {
  const news = { ...c.news, [key]: c.alt[key] };
  const d = await c.diff(structuredClone(c.olds), news);
  if (d.replaces?.length) return "replace";
  if (!d.changes) return "none";
  return c.restarts?.(c.olds, news) ? "restart" : "in place";
}

describe("what a change of each input does: sdk/'s @change tags against the provider's diff", () => {
  const policies = changePolicies();
  it("every input of the resources has a tag, and every case is judged", () => {
    assert.deepStrictEqual(Object.keys(policies).sort(), Object.keys(CASES).sort());
    for (const [name, tags] of Object.entries(policies)) assert.deepStrictEqual(Object.keys(CASES[name].alt).sort(), Object.keys(tags).sort(), name);
  });
  it("the recorded states change nothing as they are", async () => {
    for (const [name, c] of Object.entries(CASES)) assert.deepStrictEqual(await c.diff(structuredClone(c.olds), c.news), { changes: false, replaces: [], ...(name === "Vm" || name === "Network" ? { deleteBeforeReplace: true } : name === "Snapshot" || name === "WarmState" ? { deleteBeforeReplace: false } : {}) }, name);
  });
  for (const [name, tags] of Object.entries(policies)) {
    it(`${name}: each input's change does what its tag says`, async () => {
      const wrong: string[] = [];
      for (const [key, tag] of Object.entries(tags)) {
        const did = await effect(CASES[name], key);
        if (did !== tag) wrong.push(`${key}: tagged ${tag}, the diff did ${did}`);
      }
      assert.deepStrictEqual(wrong, []);
    });
  }
});
