#!/usr/bin/env node
/**
 * pulumi-qemu probe [ssh://user@host[:port]] [--json] [--identity FILE]
 *   [--host-key KEY | --known-hosts FILE | --insecure-accept-any-host-key]
 *   [--work-dir DIR] [--guest-arch ARCH] [--reprobe] [--windows]
 * pulumi-qemu gc [ssh://user@host[:port]] [--work-dir DIR] [--expired] [--images] [--json] (and the SSH options above)
 */
import { readFileSync } from "fs";
import { homedir } from "os";
import * as path from "path";
import { probeHost, type CapabilityReport } from "./host/capabilities";
import { closeAllSshTransports, LocalTransport, sshTransport, type SshOptions, type Transport } from "./transport";
import { parseSshTarget } from "./transport/sshOptions";
import { collectExpired, formatInventory, inventory, isExpired } from "./resources/gc";
import { removeUnusedImages } from "./resources/image";
import { removeUnusedWarmStates } from "./resources/warmState";

const SSH_FLAGS = "[--identity FILE] [--host-key KEY | --known-hosts FILE | --insecure-accept-any-host-key] [--work-dir DIR]";
const USAGE = `usage: pulumi-qemu probe [ssh://user@host[:port]] [--json] ${SSH_FLAGS} [--guest-arch ARCH] [--reprobe] [--windows]\n` +
  `       pulumi-qemu gc [ssh://user@host[:port]] ${SSH_FLAGS} [--expired] [--images] [--json]`;

function fail(message: string): never {
  console.error(`pulumi-qemu: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Record<string, string | boolean> {
  const flags: Record<string, string | boolean> = {};
  const valued = new Set(["--identity", "--host-key", "--known-hosts", "--work-dir", "--guest-arch"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (valued.has(a)) {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      flags[a] = argv[++i];
    } else if (["--json", "--reprobe", "--insecure-accept-any-host-key", "--windows", "--expired", "--images"].includes(a)) flags[a] = true;
    else if (a.startsWith("ssh://") && !flags.target) flags.target = a;
    else fail(`unknown argument ${JSON.stringify(a)}`);
  }
  return flags;
}

function sshOptionsFromUrl(url: string, flags: Record<string, string | boolean>): SshOptions {
  const target = parseSshTarget(url);
  if (!target) fail(`cannot read ${JSON.stringify(url)}: expected ssh://user@host[:port]`);
  const identity = (flags["--identity"] as string | undefined) ?? [path.join(homedir(), ".ssh/id_ed25519"), path.join(homedir(), ".ssh/id_rsa")]
    .find((f) => { try { readFileSync(f); return true; } catch { return false; } });
  const options: SshOptions = {
    host: target.host,
    port: target.port ?? 22,
    user: target.user ?? process.env.USER ?? "root",
    privateKey: identity ? readFileSync(identity, "utf8") : undefined,
    agent: identity ? undefined : process.env.SSH_AUTH_SOCK,
  };
  if (flags["--windows"]) options.platform = "windows";
  if (flags["--host-key"]) options.hostKey = flags["--host-key"] as string;
  else if (flags["--insecure-accept-any-host-key"]) options.insecureAcceptAnyHostKey = true;
  else options.knownHostsFile = (flags["--known-hosts"] as string | undefined) ?? path.join(homedir(), ".ssh/known_hosts");
  return options;
}

function table(report: CapabilityReport, where: string): string {
  const mark = (b: boolean) => (b ? "yes" : "no");
  const rows = report.accelerators.map((a) =>
    `  ${a.name.padEnd(5)} present: ${mark(a.present).padEnd(3)}  accessible: ${mark(a.accessible).padEnd(3)}  qemu: ${mark(a.qemuSupports).padEnd(3)}  usable: ${a.usable ? "YES" : "no "}` +
    `${a.deprecated ? "  (deprecated)" : ""}${a.reason ? `\n        ${a.reason}` : ""}`);
  const qemu = report.qemu.map((q) => `${q.name} ${q.version}`).join(", ") || "none found";
  return [`Host ${where}: ${report.host.os} ${report.host.arch}, ${report.host.cores} cores, ${Math.round(report.host.memoryBytes / 2 ** 30)} GiB, user ${report.host.user}`,
    `QEMU: ${qemu}`, ...rows,
    `Recommended for ${report.guestArch} guests: ${report.recommended ?? "none (nothing usable)"}`].join("\n");
}

async function probe(transport: Transport, flags: Record<string, string | boolean>, target: string | undefined): Promise<void> {
  const workDir = (flags["--work-dir"] as string | undefined) ?? (target ? ".pulumi-qemu" : path.join(homedir(), ".cache/pulumi-qemu/host"));
  const report = await probeHost(transport, { workDir, guestArch: flags["--guest-arch"] as string | undefined, reprobe: flags["--reprobe"] === true });
  console.log(flags["--json"] ? JSON.stringify(report, null, 2) : table(report, transport.description));
}

/** Lists the VMs of a working directory (default: a Host's default, ~/.pulumi-qemu); with --expired, removes those whose lease ended. */
async function gc(transport: Transport, flags: Record<string, string | boolean>, target: string | undefined): Promise<void> {
  const workDir = (flags["--work-dir"] as string | undefined) ?? (target ? ".pulumi-qemu" : path.join(homedir(), ".pulumi-qemu"));
  const now = Date.now();
  const entries = await inventory(transport, workDir);
  if (flags["--json"] && !flags["--expired"]) return void console.log(JSON.stringify(entries.map((e) => ({ ...e, expired: isExpired(e, now) })), null, 2));
  console.log(`VMs in ${workDir} on ${transport.description}:\n${entries.length ? formatInventory(entries, now) : "(none)"}`);
  if (flags["--images"]) {
    // Before the images: a WarmState's disk is a clone of one.
    const warm = await removeUnusedWarmStates(transport, workDir, (m) => console.log(`pulumi-qemu: ${m}`));
    console.log(`${warm.length} unused WarmState(s) removed`);
    const images = await removeUnusedImages(transport, workDir, (m) => console.log(`pulumi-qemu: ${m}`));
    console.log(`${images.length} unused cached image(s) removed`);
  }
  if (!flags["--expired"]) return;
  const { removed, failed, disks } = await collectExpired(transport, workDir, entries, now, (m) => console.log(`pulumi-qemu: ${m}`));
  console.log(`${removed.length} expired VM(s) removed, and ${disks.length} disk(s) only they used${failed.length ? `; ${failed.length} could not be: ${failed.join(", ")}` : ""}`);
  if (failed.length) process.exitCode = 1;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== "probe" && command !== "gc") fail(command ? `unknown command ${JSON.stringify(command)}` : "a command is required");
  const flags = parseArgs(rest);
  const target = flags.target as string | undefined;
  const transport: Transport = target ? sshTransport(sshOptionsFromUrl(target, flags)) : new LocalTransport();
  try {
    await (command === "gc" ? gc : probe)(transport, flags, target);
  } finally {
    await closeAllSshTransports();
  }
}

main().catch((e: Error) => {
  console.error(`pulumi-qemu: ${e.message}`);
  process.exit(1);
});
