/** The testbed as tests see it: the hosts that tests/testbed/hosts.sh brought up. */
import { readFileSync } from "fs";
import * as path from "path";
import type { SshOptions } from "../../provider/transport";

export interface TestHost {
  name: string;
  address: string;
  /** Its address on the hosts' private LAN (another interface), where the hosts reach each other. */
  lanAddress: string;
  port: number;
  workDir: string;
  /** Where the test guest's kernel, initramfs and base image are on this host (isolated hosts: copied in over SSH). */
  guestDir: string;
  /** True when the host has its own mount and PID namespaces (hosts.sh; false with PQEMU_TESTBED_SHARED=1). */
  isolated: boolean;
  hostKey: string;
}

export interface TestbedFile {
  clientKey: string;
  /** uid 0 with /bin/sh as login shell (see hosts.sh for why not "root" itself). */
  rootUser: string;
  plainUser: string;
  guest: { dir: string };
  /** Where the real Debian cloud image (debian-image.sh) is on this machine: debian-12-pulumi-qemu.qcow2 and its .sha256. */
  debianImage: { dir: string };
  hosts: TestHost[];
}

/**
 * The test guest's kernel command line. `no_timer_check`: an emulated (TCG) guest on a loaded
 * host can miss Linux's IO-APIC timer check and panic ("IO-APIC + timer doesn't work!"), as one
 * of 12 guests booting at once on 2 cores did; the check proves nothing about a virtual timer.
 */
export const GUEST_APPEND = "console=ttyS0 quiet no_timer_check";

const STATE = process.env.PULUMI_QEMU_TESTBED ?? "/tmp/pulumi-qemu-testbed";

export function testbed(): TestbedFile {
  return JSON.parse(readFileSync(path.join(STATE, "testbed.json"), "utf8")) as TestbedFile;
}

/** SSH options to reach a test host as uid 0 (or as `user`), its host key pinned. */
export function sshOptionsFor(host: TestHost, overrides: Partial<SshOptions> = {}): SshOptions {
  const bed = testbed();
  return {
    host: host.address,
    port: host.port,
    user: bed.rootUser,
    privateKey: readFileSync(bed.clientKey, "utf8"),
    hostKey: host.hostKey,
    connectTimeoutMs: 10000,
    ...overrides,
  };
}

function sshdLogCount(host: TestHost, pattern: RegExp): number {
  const log = readFileSync(path.join(STATE, host.name, "sshd.log"), "utf8");
  return (log.match(pattern) ?? []).length;
}

/** How many logins the host's sshd has accepted so far (an independent count of connections). */
export function acceptedLogins(host: TestHost): number {
  return sshdLogCount(host, /Accepted publickey/g);
}

/** How many sessions (channels running a command) the host's sshd has started so far. */
export function sessionsStarted(host: TestHost): number {
  return sshdLogCount(host, /^Starting session: /gm);
}

/** How many TCP connections the host's sshd has seen so far (LogLevel VERBOSE). */
export function connectionsSeen(host: TestHost): number {
  return sshdLogCount(host, /^Connection from /gm);
}
