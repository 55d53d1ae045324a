/**
 * TEST DOUBLE, run as a program in place of `qemu-system-x86_64 -accel kvm`: a QEMU under a KVM
 * that lies, behaving as the recording of such a host shows
 * (../shared/recordings/linux-x86_64-kvm-pvm/, copied to tests/unit/fixtures/hosts/kvm-pvm/).
 * It daemonizes, writes its pidfile, logs the run state `running`, and after
 * LYING_KVM_FAIL_AFTER_MS (default 1500) logs the recorded `KVM internal error` lines and the run
 * state `internal-error`; it stays alive, and its QMP socket answers query-status with
 * internal-error, query-kvm with enabled, and quit by exiting. Machines without such a KVM use
 * it to exercise the fallback; LYING_KVM_REPORT names a file where it appends the time it failed.
 */
import { spawn } from "child_process";
import { appendFileSync, existsSync, readFileSync, unlinkSync, writeFileSync } from "fs";
import * as net from "net";
import * as path from "path";

const RECORDED_LOG = path.join(__dirname, "../../../tests/unit/fixtures/hosts/kvm-pvm/shared-guest-under-kvm.qemu-log.txt");

const args = process.argv.slice(2);
const value = (flag: string) => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1] : undefined; };
const pidfile = value("-pidfile")!;
const log = value("-D")!;
const qmpSocket = /^unix:([^,]+)/.exec(value("-qmp") ?? "")?.[1];

if (args.includes("-daemonize") && !process.env.LYING_KVM_CHILD) {
  // As QEMU does: the parent returns once the daemon has written its pidfile.
  const child = spawn(process.execPath, process.argv.slice(1), { detached: true, stdio: "ignore", env: { ...process.env, LYING_KVM_CHILD: "1" } });
  child.unref();
  const deadline = Date.now() + 5000;
  const wait = () => {
    if (existsSync(pidfile) && readFileSync(pidfile, "utf8").trim() === String(child.pid)) process.exit(0);
    if (Date.now() > deadline) { console.error("lying-kvm double: the daemon wrote no pidfile"); process.exit(1); }
    setTimeout(wait, 10);
  };
  wait();
} else {
  daemon();
}

function daemon(): void {
  let status = "running";
  writeFileSync(log, "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\n" +
    "runstate_set current_run_state 6 (prelaunch) new_state 9 (running)\n");
  if (qmpSocket) serveQmp(qmpSocket, () => status);
  writeFileSync(pidfile, `${process.pid}\n`);
  setTimeout(() => {
    const recorded = readFileSync(RECORDED_LOG, "utf8").split("\n");
    const failure = recorded.slice(recorded.findIndex((l) => l.startsWith("KVM internal error")), recorded.findIndex((l) => l.includes("(internal-error)")));
    appendFileSync(log, `${failure.join("\n")}\nrunstate_set current_run_state 9 (running) new_state 2 (internal-error)\n`);
    status = "internal-error";
    if (process.env.LYING_KVM_REPORT) appendFileSync(process.env.LYING_KVM_REPORT, `${JSON.stringify({ pid: process.pid, failedAt: Date.now() })}\n`);
  }, Number(process.env.LYING_KVM_FAIL_AFTER_MS ?? 1500));
  process.on("SIGTERM", () => process.exit(0));
  // Like QEMU after a KVM internal error: alive, doing nothing useful, until told to go.
  setInterval(() => undefined, 60000);
}

function serveQmp(socketPath: string, status: () => string): void {
  if (existsSync(socketPath)) unlinkSync(socketPath);
  net.createServer((conn) => {
    conn.write(`${JSON.stringify({ QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: "lying-kvm test double" }, capabilities: [] } })}\r\n`);
    let buffer = "";
    conn.on("data", (chunk) => {
      // One command a line, as the provider's QMP client writes them.
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const command = JSON.parse(buffer.slice(0, nl)) as { execute?: string; id?: unknown };
        buffer = buffer.slice(nl + 1);
        conn.write(`${JSON.stringify({ ...answer(command.execute, status()), id: command.id })}\r\n`);
        if (command.execute === "quit") setTimeout(() => process.exit(0), 20);
      }
    });
    conn.on("error", () => undefined);
  }).listen(socketPath);
}

function answer(command: string | undefined, status: string): object {
  switch (command) {
    case "qmp_capabilities": case "quit": case "system_powerdown": return { return: {} };
    case "query-status": return { return: { status, running: status === "running", singlestep: false } };
    case "query-kvm": return { return: { enabled: true, present: true } };
    default: return { error: { class: "CommandNotFound", desc: `The command ${command} has not been found (lying-kvm test double)` } };
  }
}
