/** QEMU processes as `ps` shows them (one PID space for every test host). */
import { execFileSync } from "child_process";

/** PIDs of live (not zombie) QEMU processes whose command line contains `fragment`. */
export function liveQemuPids(fragment: string): number[] {
  return execFileSync("ps", ["-eo", "pid=,stat=,args="]).toString().split("\n")
    .filter((l) => l.includes(fragment) && l.includes("qemu-system") && !/^\s*\d+\s+Z/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}
