/**
 * Processes as the machine sees them (`ps`, /proc). An isolated test host (tests/testbed/
 * host-init.sh) has its own PID namespace, so a PID a provider reports for it is the PID there:
 * every PID here is a process's PID in its own, innermost namespace (the last of NSpid), and
 * each isolated host's PIDs start at its own million, so no two are one.
 */
import { execFileSync } from "child_process";
import { readdirSync, readFileSync } from "fs";

/** A process's PID in its own PID namespace (itself for the machine's processes). */
function innermost(rootPid: number): number {
  try {
    const ns = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${rootPid}/status`, "latin1"))?.[1].trim().split(/\s+/);
    return ns ? Number(ns[ns.length - 1]) : rootPid;
  } catch {
    return rootPid;
  }
}

/** The machine's PID of the process whose PID in its own namespace is `pid`. */
export function rootPidOf(pid: number): number | undefined {
  if (innermost(pid) === pid && isProcess(pid)) return pid;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    if (innermost(Number(entry)) === pid) return Number(entry);
  }
  return undefined;
}

function isProcess(rootPid: number): boolean {
  try {
    readFileSync(`/proc/${rootPid}/stat`);
    return true;
  } catch {
    return false;
  }
}

/** `ps` lines matching, as their processes' PIDs in their own namespaces. */
function psPids(keep: (line: string) => boolean): number[] {
  return execFileSync("ps", ["-eo", "pid=,stat=,args="]).toString().split("\n")
    .filter((l) => l.trim() && keep(l) && !/^\s*\d+\s+Z/.test(l))
    .map((l) => innermost(Number(l.trim().split(/\s+/)[0])));
}

/** Sends a signal to a process given by its PID in its own namespace (see above). */
export function killProcess(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  const root = rootPidOf(pid);
  if (root !== undefined) process.kill(root, signal);
}

/** PIDs of live (not zombie) QEMU processes whose command line contains `fragment`. */
export function liveQemuPids(fragment: string): number[] {
  return psPids((l) => l.includes(fragment) && l.includes("qemu-system"));
}

/** PIDs of live processes (any program, not this one) whose command line contains `fragment`. */
export function processesNaming(fragment: string): number[] {
  return psPids((l) => l.includes(fragment)).filter((pid) => pid !== process.pid);
}

/**
 * PIDs of live QEMU processes of the VM (or network switch) named `name`: `-name guest=NAME`, or
 * `guest=NAME.TAG` as a VM made by this release runs (its name on the host, per owner token).
 */
export function vmQemuPids(name: string): number[] {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const named = new RegExp(`(^|\\s)guest=${escaped}(\\.[0-9a-f]{8})?(\\s|$)`);
  return psPids((l) => named.test(l) && l.includes("qemu-system"));
}

/**
 * A process's /proc/PID/stat fields after its command name: [0] is field 3 (state), [11] and
 * [12] utime and stime, [19] starttime (clock ticks; USER_HZ is 100). `pid` as above.
 */
export function procStat(pid: number): string[] {
  const root = rootPidOf(pid);
  if (root === undefined) throw new Error(`no process ${pid}`);
  return readFileSync(`/proc/${root}/stat`, "latin1").replace(/^.*\) /, "").split(" ");
}

/** A live process that is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return procStat(pid)[0] !== "Z";
  } catch {
    return false;
  }
}
