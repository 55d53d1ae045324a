/** QEMU processes as `ps` shows them (one PID space for every test host). */
import { execFileSync } from "child_process";
import { readFileSync } from "fs";

/** PIDs of live (not zombie) QEMU processes whose command line contains `fragment`. */
export function liveQemuPids(fragment: string): number[] {
  return execFileSync("ps", ["-eo", "pid=,stat=,args="]).toString().split("\n")
    .filter((l) => l.includes(fragment) && l.includes("qemu-system") && !/^\s*\d+\s+Z/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** PIDs of live processes (any program, not this one) whose command line contains `fragment`. */
export function processesNaming(fragment: string): number[] {
  return execFileSync("ps", ["-eo", "pid=,stat=,args="]).toString().split("\n")
    .filter((l) => l.includes(fragment) && !/^\s*\d+\s+Z/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0])).filter((pid) => pid !== process.pid);
}

/**
 * PIDs of live QEMU processes of the VM (or network switch) named `name`: `-name guest=NAME`, or
 * `guest=NAME.TAG` as a VM made by this release runs (its name on the host, per owner token).
 */
export function vmQemuPids(name: string): number[] {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const named = new RegExp(`(^|\\s)guest=${escaped}(\\.[0-9a-f]{8})?(\\s|$)`);
  return execFileSync("ps", ["-eo", "pid=,stat=,args="]).toString().split("\n")
    .filter((l) => named.test(l) && l.includes("qemu-system") && !/^\s*\d+\s+Z/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/**
 * A process's /proc/PID/stat fields after its command name: [0] is field 3 (state), [11] and
 * [12] utime and stime, [19] starttime (clock ticks; USER_HZ is 100). The test hosts share this
 * machine's PID space.
 */
export function procStat(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, "latin1").replace(/^.*\) /, "").split(" ");
}

/** A live process that is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return procStat(pid)[0] !== "Z";
  } catch {
    return false;
  }
}
