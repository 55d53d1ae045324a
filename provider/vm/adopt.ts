/**
 * Adopting a QEMU instance started by hand: found by its `-name`, checked against the
 * declaration (memory and vCPUs: what a restart would change for the guest), then recorded in
 * the VM's state directory by PID and start time, with its QMP socket linked in. From then on
 * it is managed like any other (refresh, the stop ladder), and it was never restarted.
 */
import { InvalidArgumentError, QemuError, expectSuccess } from "../errors";
import { parseKeyValues } from "../keyValues";
import { EXIT, type Transport } from "../transport";
import { sizeBytes } from "../validate";
import { adoptArgv, processArgv } from "../platform/posixVmScripts";
import { isManagedPidfile, type VmLayout } from "../layout";
import type { VmSpec } from "./spec";

export interface HandStarted {
  pid: number;
  /** The process's start time as the VM scripts read it: with the PID, who it is (a reused PID has another). */
  startedAt?: string;
  argv: string[];
  /** The QMP Unix socket it listens on, when it has one (else only signals can stop it). */
  qmpSocket?: string;
  memoryBytes: number;
  cpus: number;
  /** The accelerators its command line asks for (-accel, -enable-kvm, -machine accel=). */
  accelerators: string[];
}

const MiB = 2 ** 20;

/** QEMU's `-m` size: a bare number is MiB, else a size with a suffix; NaN when unreadable. */
function qemuMemoryBytes(size: string): number {
  if (/^\d+$/.test(size)) return Number(size) * MiB;
  try {
    return sizeBytes(size, "-m");
  } catch {
    return NaN;
  }
}

/** What a QEMU command line says about the guest; QEMU's defaults where an option is absent. */
export function parseHandArgv(pid: number, argv: string[]): HandStarted {
  const option = (name: string) => {
    const i = argv.findIndex((a) => a === name || a === `-${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const qmp = option("-qmp");
  const qmpSocket = qmp?.startsWith("unix:") ? qmp.slice(5).split(",")[0] : undefined;
  const m = option("-m") ?? "128";
  const size = /(?:^|,)size=([^,]+)/.exec(m)?.[1] ?? m.split(",")[0];
  const memoryBytes = qemuMemoryBytes(size);
  const smp = option("-smp") ?? "1";
  const cpus = Number(/(?:^|,)cpus=(\d+)/.exec(smp)?.[1] ?? /^(\d+)/.exec(smp)?.[1] ?? 1);
  const accelerators = argv.flatMap((a, i) => argv[i - 1] === "-accel" ? [a.split(",")[0]]
    : a === "-enable-kvm" ? ["kvm"] : /^(-M|-machine)$/.test(argv[i - 1] ?? "") ? (/(?:^|,)accel=([^,]+)/.exec(a)?.[1].split(":") ?? []) : []);
  return { pid, argv, qmpSocket, memoryBytes, cpus, accelerators };
}

/** True when `-name` names this guest (`NAME`, or `guest=NAME` with or without more options). */
export function namesGuest(argv: string[], name: string): boolean {
  const i = argv.indexOf("-name");
  if (i < 0 || argv[i + 1] === undefined) return false;
  const value = argv[i + 1];
  const guest = /(?:^|,)guest=([^,]*)/.exec(value)?.[1] ?? value.split(",")[0];
  return guest === name;
}

/**
 * The live QEMU processes of the SSH user whose `-name` is this guest and that no state directory
 * of this package manages (their `-pidfile` is not in its layout), with their exact command lines
 * and start times. Another user's QEMU, or another VM's, is never a candidate.
 */
export async function findHandStarted(transport: Transport, name: string): Promise<HandStarted[]> {
  // One ps for candidates (its args are space-joined), then each candidate's start time and exact argv.
  const ps = ["sh", "-c", "id -u && exec ps -eo uid=,pid=,args="];
  const [me, ...lines] = expectSuccess(`${transport.description}: listing processes`, ps, await transport.exec(ps)).stdout.split("\n");
  const candidates = lines.map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => !!m && m[1] === me.trim() && /qemu-system/.test(m[3]) && m[3].includes(name));
  const found: HandStarted[] = [];
  for (const [, , pid, args] of candidates) {
    const argvOf = processArgv(pid);
    const r = await transport.exec(argvOf);
    if (r.exitCode !== 0) continue; // ended meanwhile
    const [startedAt, ...cmdline] = r.stdout.split("\n");
    // Without /proc (macOS, BSD) ps's space-joined line is all there is: an argument holding a
    // space is split, which leaves -name, -m, -smp and -qmp readable unless they hold one.
    const fromProc = cmdline.join("\n");
    const argv = fromProc ? fromProc.split("\0").filter((a, i, all) => i < all.length - 1 || a !== "") : args.trim().split(/\s+/);
    const pidfile = argv[argv.findIndex((a) => a === "-pidfile" || a === "--pidfile") + 1];
    if (namesGuest(argv, name) && !(pidfile && isManagedPidfile(pidfile))) found.push({ ...parseHandArgv(Number(pid), argv), startedAt });
  }
  return found;
}

/** Refuses an instance that does not match the declaration, naming the property. */
export function checkAdoptable(spec: VmSpec, found: HandStarted[]): HandStarted {
  if (found.length !== 1) {
    throw new InvalidArgumentError("adopt", found.length === 0
      ? `no running QEMU instance has -name ${spec.name}: nothing to adopt`
      : `${found.length} running QEMU instances have -name ${spec.name} (PIDs ${found.map((f) => f.pid).join(", ")}): cannot tell which to adopt`);
  }
  const [it] = found;
  if (it.memoryBytes !== spec.memoryBytes) {
    throw new InvalidArgumentError("memory", `the running instance (PID ${it.pid}) has ${it.memoryBytes / MiB} MiB, the declaration ${spec.memoryBytes / MiB} MiB: declare its size to adopt it without a restart`);
  }
  if (it.cpus !== spec.cpus) {
    throw new InvalidArgumentError("cpus", `the running instance (PID ${it.pid}) has ${it.cpus} vCPUs, the declaration ${spec.cpus}: declare its count to adopt it without a restart`);
  }
  return it;
}

/** Records the instance in the state directory (under the VM's lock); returns the start script's observation lines. */
export async function recordAdopted(transport: Transport, layout: VmLayout, spec: VmSpec, it: HandStarted): Promise<Map<string, string>> {
  const argv = adoptArgv(layout, layout.name, it.pid, it.startedAt ?? "", JSON.stringify(spec), it.qmpSocket ?? "");
  const r = await transport.exec(argv);
  if (r.exitCode === EXIT.NOT_THE_CHECKED_PROCESS) throw new QemuError("NOT_FOUND", `${transport.description}: VM ${spec.name}: the process PID ${it.pid} that was checked ended before it could be adopted (or its PID now names another process); nothing was recorded`);
  return parseKeyValues(expectSuccess(`${transport.description}: adopting VM ${spec.name}`, argv, r, ["sh", "-c", "<adopt>", layout.name, String(it.pid)]).stdout);
}
