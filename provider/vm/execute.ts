/** The side effects of reconciling a VM: start, the stop ladder, resume, and waiting for readiness. */
import { CloudInitError, GuestPanicError, GuestStoppedError, NotReadyError, QemuError, QemuStartError, expectSuccess } from "../errors";
import type { VmHandle } from "./handle";
import { qemuMessages } from "../qemu/messages";
import { parseKeyValues } from "../keyValues";
import { EXIT, makeDirectory, tailFile, type Transport } from "../transport";
import { withVmQmp } from "./qmpEndpoint";
import { guestShutdown, readGuestFile, withVmGuestAgent } from "./guestAgent";
import { CLOUD_INIT_FINISHED, CLOUD_INIT_RESULT, cloudInitFailure, cloudInitResult } from "./cloudInitReadiness";
import { hostOps } from "../platform";
import { cloudInitSeedPath, type SeedDigest, type VmLayout } from "../layout";
import { listStartedSpecs, observe } from "./observe";
import { forwardAddressOnHost, forwardedPorts, type ReadinessSpec, type StopTimeouts, type VmSpec } from "./spec";
import { planStop, type StopRung } from "./plan";

export type Progress = (message: string) => void;

export interface Started {
  /** An instance of this VM was already running: nothing was started. */
  existing: boolean;
  pid?: number;
  /** What the start script saw right after (observe.ts's key=value lines): no second round trip. */
  observation: Map<string, string>;
}

/** Starts QEMU under the VM's lock; a start error carries QEMU's own message (and who holds a port). */
export async function startVm(handle: VmHandle, spec: VmSpec, argv: string[]): Promise<Started> {
  const { transport, layout } = handle;
  const keepSeed = spec.cloudInit ? cloudInitSeedPath(layout, spec.cloudInit) : "";
  const script = hostOps(transport).vm.start(layout, layout.name, JSON.stringify(spec), argv, keepSeed);
  const r = await transport.exec(script, { timeoutMs: 180000 });
  if (r.exitCode === EXIT.QEMU_FAILED) {
    const qemuSays = qemuMessages(r.stderr).join("\n");
    const owner = /host forwarding rule|hostfwd/i.test(qemuSays) ? await portOwners(handle, spec) : "";
    throw new QemuStartError(`${transport.description}: QEMU did not start VM ${spec.name}: ${qemuSays}${owner}`, qemuSays);
  }
  // QEMU's arguments are not quoted in the error: extraArgs may hold secrets.
  const values = parseKeyValues(expectSuccess(`${transport.description}: starting VM ${spec.name}`, script, r, ["sh", "-c", "<start>", layout.name, argv[0], "<arguments>"]).stdout);
  const existing = values.get("existing") === "1";
  return { existing, pid: Number(values.get("pid")) || undefined, observation: values };
}

/**
 * Puts private files (mode 0600) in a state directory, making it first: QEMU's config file
 * (argv.ts qemuReadConfig), the values of secret objects (secretObjects.ts), the owner record.
 */
export async function writePrivateFiles(handle: VmHandle, files: Array<{ path: string; data: string }>): Promise<void> {
  const { transport, layout } = handle;
  if (!files.length) return;
  await makeDirectory(transport, layout.dir);
  for (const f of files) await transport.writeFile(f.path, f.data, { mode: 0o600 });
}

/** Puts the seed image in the state directory (mode 0600: user-data may hold secrets). */
export async function writeCloudInitSeed(handle: VmHandle, image: Buffer, seed: SeedDigest): Promise<void> {
  const { transport, layout } = handle;
  await makeDirectory(transport, layout.dir);
  await transport.writeFile(cloudInitSeedPath(layout, seed), image, { mode: 0o600 });
}

/** Which other VMs of this working directory forward the host ports this spec wants. */
async function portOwners(handle: VmHandle, spec: VmSpec): Promise<string> {
  const { transport, layout } = handle;
  const wanted = forwardedPorts(spec);
  const found: string[] = [];
  for (const { dir, spec: other } of await listStartedSpecs(transport, layout.root)) {
    if (dir === layout.dir) continue;
    for (const p of forwardedPorts(other)) {
      if (wanted.some((w) => w.host === p.host && w.protocol === p.protocol)) found.push(`host port ${p.host}/${p.protocol} is forwarded by VM ${other.name} (${dir})`);
    }
  }
  return found.length ? `; ${found.join("; ")}` : "; another program on the host holds one of the forwarded ports";
}

/** Polls the VM until it is stopped, for at most `ms`; `everyMs` between looks (after QMP saw QEMU end, its process is gone within a few ms). */
async function waitUntilGone(handle: VmHandle, ms: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await observe(handle)).state === "stopped") return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(10, deadline - Date.now()))));
  }
}

/**
 * The QMP rungs of the ladder on one session: each command, then a wait for QEMU to end, which
 * it shows by closing the session (no polling). Records each rung tried in `used`; false when
 * QMP could not be reached or QEMU outlived every wait (the signals take over).
 */
async function qmpRungs(handle: VmHandle, rungs: Array<[StopRung, number]>, used: string[], progress: Progress): Promise<boolean> {
  const { name } = handle;
  try {
    return await withVmQmp(handle, 3000, async (qmp) => {
      for (const [rung, waitMs] of rungs) {
        progress(`VM ${name}: ${rung}`);
        used.push(rung);
        if (rung === "guest-shutdown") {
          // An agent that does not answer (none in the guest, or a hung guest): on to the next rung.
          const asked = await withVmGuestAgent(handle, 3000, guestShutdown).then(() => true, () => false);
          if (!asked) continue;
        } else {
          await qmp.execute(rung, undefined, 3000).catch(() => undefined); // quit may close the session before its answer
        }
        if (await qmp.ended(waitMs)) return true;
      }
      return false;
    });
  } catch {
    return false; // no QMP session: the next rung of the ladder takes over
  }
}

/**
 * Stops the VM: observe, then planStop's rungs (ACPI powerdown, the guest agent's shutdown when
 * the running instance has one, QMP quit, SIGTERM, SIGKILL, each
 * bounded by its wait), then one cleanup: its runtime files, or with `removeState` its whole
 * state directory (a delete needs no second round trip). Returns the rungs used.
 */
export async function stopVm(handle: VmHandle, timeouts: StopTimeouts = {}, progress: Progress = () => undefined,
  options: { removeState?: keyof typeof STATE_DIRS } = {}): Promise<string[]> {
  const { transport, layout, name } = handle;
  if (options.removeState) checkStateDir(layout, options.removeState);
  const powerdownMs = timeouts.powerdownMs ?? 30000;
  const quitMs = timeouts.quitMs ?? 5000;
  const waits: Record<StopRung, number> = { system_powerdown: powerdownMs, "guest-shutdown": powerdownMs, quit: quitMs, SIGTERM: quitMs, SIGKILL: 5000 };
  const used: string[] = [];
  const observed = await observe(handle);
  const rungs = planStop(observed.state, powerdownMs, !!observed.startedSpec?.guestAgent);
  let gone = rungs.length === 0;
  const viaQmp = rungs.filter((r) => r === "system_powerdown" || r === "guest-shutdown" || r === "quit");
  if (viaQmp.length) {
    const ended = await qmpRungs(handle, viaQmp.map((r) => [r, waits[r]]), used, progress);
    // QEMU closed its QMP session: the process follows within moments.
    gone = await waitUntilGone(handle, ended ? quitMs : 0, 20);
  }
  for (const rung of rungs.filter((r) => r === "SIGTERM" || r === "SIGKILL")) {
    if (gone) break;
    progress(`VM ${name}: ${rung}`);
    used.push(rung);
    await transport.exec(hostOps(transport).vm.signal(layout, name, rung === "SIGTERM" ? "TERM" : "KILL"));
    gone = await waitUntilGone(handle, waits[rung]);
  }
  if (!gone) throw new QemuError("TIMEOUT", `${transport.description}: VM ${name} survived SIGKILL (pidfile ${layout.pidfile})`);
  const what = options.removeState ? "all" : "runtime";
  const cleanup = hostOps(transport).vm.cleanup(layout, name, what);
  const doing = options.removeState ? `removing the state of ${STATE_DIRS[options.removeState]} ${name}` : `cleaning up VM ${name}`;
  expectSuccess(`${transport.description}: ${doing}`, cleanup, await transport.exec(cleanup), ["sh", "-c", `<cleanup ${what}>`, name]);
  return used;
}

const STATE_DIRS = { vms: "VM", networks: "network switch" } as const;

/** Only a VM's (or a network switch's) own state directory is ever removed whole. */
function checkStateDir(layout: VmLayout, root: keyof typeof STATE_DIRS): void {
  if (!new RegExp(`/${root}/[A-Za-z0-9][A-Za-z0-9_.-]*$`).test(layout.dir)) {
    throw new QemuError("INVALID_ARGUMENT", `refusing to remove ${layout.dir}: not a ${STATE_DIRS[root]} state directory`);
  }
}

/** Deletes a VM's (or, with "networks", a network switch's) state directory; refuses while its QEMU runs. */
export async function removeStateDir(handle: VmHandle, root: keyof typeof STATE_DIRS = "vms"): Promise<void> {
  const { transport, layout, name } = handle;
  checkStateDir(layout, root);
  const argv = hostOps(transport).vm.cleanup(layout, name, "all");
  expectSuccess(`${transport.description}: removing the state of ${STATE_DIRS[root]} ${name}`, argv, await transport.exec(argv), ["sh", "-c", "<cleanup all>", name]);
}

export async function resumeVm(handle: VmHandle): Promise<void> {
  const { transport, name } = handle;
  try {
    await withVmQmp(handle, 3000, (qmp) => qmp.execute("cont", undefined, 3000));
  } catch (e) {
    throw new QemuError("COMMAND_FAILED", `${transport.description}: VM ${name}: QMP cont failed: ${(e as Error).message}`);
  }
}

function serialTail(handle: VmHandle): Promise<string> {
  const { transport, layout } = handle;
  return tailFile(transport, layout.serialLog, 65536);
}

/**
 * Why a VM never got ready, for the error: `what` happened, what QEMU itself said after it
 * daemonized (its log without traces and register dumps), and the serial log's end. `words` is
 * QEMU's without its warnings.
 */
async function notReadyBecause(handle: VmHandle, spec: VmSpec, what: string): Promise<{ message: string; words: string }> {
  const { transport, layout } = handle;
  const log = await tailFile(transport, layout.qemuLog, 8192);
  const said = qemuMessages(log).slice(-10).join("\n");
  const message = `${transport.description}: VM ${spec.name} ${what}${said ? `; QEMU said: ${said}` : ""}; serial log ends with:\n${(await serialTail(handle)).slice(-2000)}`;
  return { message, words: qemuMessages(log, { warnings: false }).slice(-10).join("\n") };
}

/** A forwarded port answers: bytes arrive, or the connection is still open after a second. */
async function portAnswers(transport: Transport, address: string, port: number): Promise<boolean> {
  let stream;
  try {
    stream = await transport.connectTcp(address, port);
  } catch {
    return false;
  }
  const s = stream;
  return new Promise<boolean>((resolve) => {
    const done = (answered: boolean) => { clearTimeout(timer); s.removeAllListeners("data"); s.destroy(); resolve(answered); };
    const timer = setTimeout(() => done(true), 1000);
    s.once("data", () => done(true));
    s.once("close", () => done(false));
    s.once("error", () => done(false));
  });
}

/** cloud-init's result in the guest, read through its agent; undefined while there is none (or no agent answers). */
async function agentCloudInitResult(handle: VmHandle): Promise<ReturnType<typeof cloudInitResult>> {
  const pieces: Buffer[] = [];
  const found = await withVmGuestAgent(handle, 2000, (agent) => readGuestFile(agent, CLOUD_INIT_RESULT, (p) => pieces.push(p))).catch(() => false);
  return found ? cloudInitResult(Buffer.concat(pieces).toString("utf8")) : undefined;
}

/** The guest agent answers a ping within 2 s (one that is not running yet never answers). */
function agentAnswers(handle: VmHandle): Promise<boolean> {
  return withVmGuestAgent(handle, 2000, (agent) => agent.execute("guest-ping", undefined, 2000)).then(() => true, () => false);
}

/**
 * A guest that keeps resetting before it is ready (a triple fault at each boot, a kernel that
 * panics and reboots): QEMU 7.2 resets the boot CPU once at start and twice per reboot, so this
 * is three reboots there (six elsewhere). A reboot or two while provisioning is not a loop.
 */
export const RESET_LOOP_BOOT_CPU_RESETS = 7;

function resetLoop(bootCpuResets: number | undefined): boolean {
  return (bootCpuResets ?? 0) >= RESET_LOOP_BOOT_CPU_RESETS;
}

/** The line a Linux kernel prints on its console when it panics (the guest then spins or halts). */
export const KERNEL_PANIC = /Kernel panic - not syncing:[^\n]*/;

/** How long a readiness wait lasts when `readiness.timeoutMs` is not given. */
export const DEFAULT_READINESS_TIMEOUT_MS = 120000;

/** How long a cloud-init report whose lines are still reaching the console is waited for. */
const REPORT_COMPLETION_MS = 5000;

/** Waits for the serial pattern and the guest port; on timeout says what was last seen. */
export async function waitReady(handle: VmHandle, spec: VmSpec, readiness: ReadinessSpec, progress: Progress = () => undefined): Promise<void> {
  const { transport } = handle;
  const timeoutMs = readiness.timeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const pattern = readiness.serialPattern !== undefined ? new RegExp(readiness.serialPattern, "m") : undefined;
  const forward = readiness.guestPort === undefined ? undefined
    : forwardedPorts(spec).find((p) => p.guest === readiness.guestPort && p.protocol === "tcp");
  let serialSeen = !pattern;
  let cloudInitDone = !readiness.cloudInit;
  let portSeen = !forward;
  let agentSeen = !readiness.guestAgent;
  let lastReport = 0;
  let lastAgentStatus = 0;
  let reportSeenAt: number | undefined;
  for (;;) {
    if (!serialSeen || !cloudInitDone) {
      const tail = await serialTail(handle);
      serialSeen ||= pattern!.test(tail);
      if (!cloudInitDone) {
        const failure = cloudInitFailure(tail);
        if (failure) reportSeenAt ??= Date.now();
        // A report still being written is read again, for a few seconds at most.
        if (failure && (failure.complete || Date.now() - reportSeenAt! >= REPORT_COMPLETION_MS)) {
          throw new CloudInitError(`${transport.description}: VM ${spec.name}: cloud-init reported a problem before it finished:\n${failure.text}`, failure.text);
        }
        cloudInitDone = CLOUD_INIT_FINISHED.test(tail);
      }
      // With an agent, cloud-init's own result file too: it tells where the console is not cloud-init's.
      if (!cloudInitDone && spec.guestAgent && Date.now() - lastAgentStatus >= 2000) {
        lastAgentStatus = Date.now();
        const said = await agentCloudInitResult(handle);
        if (said?.state === "error") throw new CloudInitError(`${transport.description}: VM ${spec.name}: cloud-init finished with errors (${CLOUD_INIT_RESULT}, read through the guest agent):\n${said.text.slice(-2000)}`, said.text);
        cloudInitDone = said?.state === "done";
      }
      const panic = serialSeen && cloudInitDone ? undefined : KERNEL_PANIC.exec(tail)?.[0].trim();
      if (panic) throw new GuestPanicError(`${transport.description}: VM ${spec.name}: the guest's kernel panicked before it was ready; serial log ends with:\n${tail.slice(-2000)}`, panic);
    }
    if (serialSeen && cloudInitDone && !portSeen) portSeen = await portAnswers(transport, forwardAddressOnHost(forward!), forward!.host);
    if (serialSeen && cloudInitDone && portSeen && !agentSeen) agentSeen = await agentAnswers(handle);
    if (serialSeen && cloudInitDone && portSeen && agentSeen) return;
    const observed = await observe(handle);
    if (observed.state === "running" && resetLoop(observed.bootCpuResets)) {
      const { message, words } = await notReadyBecause(handle, spec, `is in a reset loop before it was ready (QEMU's trace saw the boot CPU reset ${observed.bootCpuResets} times)`);
      throw new GuestStoppedError(message, "reset-loop", words || `the boot CPU was reset ${observed.bootCpuResets} times`);
    }
    if (observed.state === "stopped" || observed.state === "failed") {
      const { message, words } = await notReadyBecause(handle, spec, `${observed.state === "stopped" ? "exited" : "failed"} before it was ready (${observed.detail})`);
      if (observed.state === "failed") throw new GuestStoppedError(message, observed.qmpStatus ?? "unknown", words);
      throw new QemuError("COMMAND_FAILED", message);
    }
    if (Date.now() >= deadline) {
      const missing = [!cloudInitDone ? "cloud-init to finish" : "", !serialSeen ? `serial log pattern /${readiness.serialPattern}/` : "",
        !portSeen ? `guest port ${readiness.guestPort} (host port ${forward!.host})` : "", !agentSeen ? "the guest agent to answer" : ""].filter(Boolean).join(" and ");
      throw new NotReadyError(`${transport.description}: VM ${spec.name} not ready within ${timeoutMs} ms: waiting for ${missing}; serial log ends with:\n${(await serialTail(handle)).slice(-2000)}`, missing, timeoutMs);
    }
    if (Date.now() - lastReport > 10000) {
      lastReport = Date.now();
      progress(`VM ${spec.name}: waiting for ${!cloudInitDone ? "cloud-init to finish" : !serialSeen ? "the serial log" : !portSeen ? "the guest port" : "the guest agent"} (${Math.round((deadline - Date.now()) / 1000)} s left)`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
