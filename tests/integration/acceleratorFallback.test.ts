/**
 * The running guest is the final probe: a VM whose accelerator fails it falls back to the next,
 * and a failed create leaves nothing running. On every machine through the lying-KVM test double
 * (tests/helpers/lyingKvmTransport.ts); for real with this machine's own KVM, whatever it is.
 */
import * as assert from "assert";
import { vmHandle } from "../../provider/vm/handle";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as net from "net";
import { tmpdir } from "os";
import * as path from "path";
import { probeHost } from "../../provider/host/capabilities";
import { PROBE_CACHE_DIR } from "../../provider/layout";
import { create, remove, update, type VmOutputs } from "../../provider/resources/vm";
import type { Connection } from "../../provider/transport";
import { overrideTransports } from "../helpers/transportOverride";
import { startVm, waitReady, writePrivateFiles } from "../../provider/vm/execute";
import { vmLayout } from "../../provider/layout";
import { vmSpec, type VmInputs } from "../../provider/vm/spec";
import { qemuArgv, qemuReadConfig } from "../../provider/vm/argv";
import { tripleFaultBootSector } from "../helpers/haltingGuest";
import { kvmKind } from "../helpers/machine";
import { LyingKvmTransport } from "../helpers/lyingKvmTransport";
import { isAlive, killProcess, liveQemuPids, vmQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { GUEST_APPEND } from "../testbed/testbed";
import { firstForwardPort } from "../helpers/ports";
import { skipBecause } from "../helpers/skip";

const GUEST = path.join(process.env.HOME ?? "/root", ".cache/pulumi-qemu/guest");
const READY = "PULUMI-QEMU-GUEST-READY";

describe("accelerator fallback and failed creates (real QEMU; a test double where no lying KVM is)", function () {
  this.timeout(180000);
  const workDir = mkdtempSync(path.join(tmpdir(), "pq-fallback-"));
  const report = path.join(workDir, "lying-kvm-failures.jsonl");
  const lying = new LyingKvmTransport(report);
  const lyingHost: Connection = { kind: "ssh", host: "lying-kvm.lab", user: "ops", privateKey: "not used: the transport is replaced", insecureAcceptAnyHostKey: true, workDir: `${workDir}/lying` };
  const localHost: Connection = { kind: "local", workDir: `${workDir}/local` };
  let port = firstForwardPort();
  const guestVm = (host: Connection, name: string, extra: Partial<VmInputs> = {}): VmInputs => ({
    host, name, memory: "256M", accelerator: "auto",
    kernel: `${GUEST}/vmlinuz`, initrd: `${GUEST}/initramfs.gz`, append: GUEST_APPEND,
    ports: [{ host: ++port, guest: 22 }], readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 60000 },
    stopTimeouts: { powerdownMs: 1000 }, ...extra,
  });
  const failures = () => existsSync(report) ? readFileSync(report, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { pid: number; failedAt: number }) : [];
  const nothingLeft = async (host: Connection, name: string) => {
    assert.deepStrictEqual(vmQemuPids(name), [], `a QEMU of ${name} still runs`);
    for (const f of failures()) assert.ok(!isAlive(f.pid), `the double's process ${f.pid} still runs`);
    assert.deepStrictEqual(await vmStateDirs(host.workDir!, name), [], `a state directory of ${name} is left`);
  };

  before(() => overrideTransports((c) => (c.kind === "ssh" && c.host === "lying-kvm.lab" ? lying : undefined)));
  after(() => {
    overrideTransports(undefined);
    for (const pid of liveQemuPids(workDir)) killProcess(pid); // a failed test's VM
    for (const f of failures()) if (isAlive(f.pid)) killProcess(f.pid);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("double: a readiness wait on a guest that went internal-error ends at once, in QEMU's words", async () => {
    const inputs = guestVm(lyingHost, "stops");
    const { spec } = vmSpec(inputs);
    const layout = vmLayout(lyingHost.workDir!, spec.name);
    await writePrivateFiles(vmHandle(lying, layout), [{ path: layout.readConfig, data: qemuReadConfig(spec)! }]); // as the start writes it
    await startVm(vmHandle(lying, layout), spec, qemuArgv(spec, { qemuBinary: "qemu-system-x86_64", accelerators: ["kvm"], layout }));
    const waited = waitReady(vmHandle(lying, layout), spec, inputs.readiness!).then(() => Date.now(), (e: Error) => ({ e, at: Date.now() }));
    const outcome = await waited;
    assert.ok(typeof outcome === "object", "the wait succeeded");
    const [failure] = failures();
    const ms = outcome.at - failure.failedAt;
    console.log(`      readiness wait ended ${ms} ms after the guest went internal-error (timeout ${inputs.readiness!.timeoutMs} ms)`);
    assert.ok(ms >= 0 && ms < 2000, `${ms} ms`);
    assert.match(outcome.e.message, /failed before it was ready \(QEMU's run-state trace says internal-error\); QEMU said: qemu-system-x86_64: warning: .*\nKVM internal error\. Suberror: 1\nemulation failure;/);
    assert.doesNotMatch(outcome.e.message, /RAX=|GS =|extra data/);
    // This step left the double running, as a start from an older version would have: the next test must not adopt it.
    assert.ok(isAlive(failure.pid));
  });

  it("double: a broken instance is replaced, not adopted; auto falls back from kvm to tcg at once and remembers why", async () => {
    const [broken] = failures();
    const factsBefore = lying.factsRuns;
    // It runs where an older release kept the VM (named after it, no owner token): the next up replaces it.
    const inputs = guestVm(lyingHost, "stops");
    const older = { ...inputs, spec: vmSpec(inputs).spec, status: "failed", stateDir: vmLayout(lyingHost.workDir!, "stops").dir } as VmOutputs;
    const created = await update("id", older, inputs);
    // "auto" (the report) and the record of kvm's failure share one gathering of the facts.
    assert.strictEqual(lying.factsRuns - factsBefore, 1, "the host's facts were gathered more than once in one create");
    assert.ok(!isAlive(broken.pid), "the broken instance was left running");
    const outs = created.outs;
    assert.strictEqual(outs.status, "running");
    assert.strictEqual(outs.acceleratorInUse, "tcg");
    assert.deepStrictEqual(outs.acceleratorFallbacks, ["the guest stopped under kvm at run time (run state internal-error: KVM internal error. Suberror: 1 emulation failure)"]);
    const failedAt = failures()[1].failedAt;
    const fallbackStart = lying.starts.find((s) => s.accelerator === "tcg" && s.at > failedAt)!.at;
    console.log(`      fallback start ${fallbackStart - failedAt} ms after the failure`);
    assert.ok(fallbackStart - failedAt < 3000, `${fallbackStart - failedAt} ms`);

    // The host's report now says so, and the next "auto" goes straight to tcg.
    const caps = await probeHost(lying, { workDir: lyingHost.workDir! });
    const kvm = caps.accelerators.find((a) => a.name === "kvm")!;
    assert.strictEqual(kvm.usable, false);
    assert.match(kvm.reason, /^VM stops failed under kvm at run time: run state internal-error: KVM internal error/);
    assert.strictEqual(caps.recommended, "tcg");
    const kvmStarts = lying.starts.filter((s) => s.accelerator === "kvm").length;
    const second = await create(guestVm(lyingHost, "second"));
    assert.strictEqual(second.outs.acceleratorInUse, "tcg");
    assert.strictEqual(lying.starts.filter((s) => s.accelerator === "kvm").length, kvmStarts, "auto tried kvm again");
    for (const c of [{ id: "id", ...created }, second]) await remove(c.id, c.outs as VmOutputs);
    await nothingLeft(lyingHost, "stops");
  });

  it("double: a single named kvm fails with QEMU's words, says auto would have fallen back, and leaves nothing", async () => {
    rmSync(path.join(lyingHost.workDir!, PROBE_CACHE_DIR), { recursive: true, force: true }); // kvm looks usable again
    const factsBefore = lying.factsRuns;
    await assert.rejects(create(guestVm(lyingHost, "named", { accelerator: "kvm" })),
      /VM named did not run under kvm: the guest stopped under kvm at run time \(run state internal-error: KVM internal error\. Suberror: 1 emulation failure\); accelerator "auto" would have fallen back to tcg\.\n.*failed before it was ready/);
    // Recording the failure and judging what "auto" would have done share one gathering of the facts.
    assert.strictEqual(lying.factsRuns - factsBefore, 1, "the host's facts were gathered more than once in one create");
    await nothingLeft(lyingHost, "named");
  });

  it(`this machine's own KVM (${kvmKind()}): ["kvm", "tcg"] runs where the machine can`, async function () {
    const kind = kvmKind();
    if (kind === "unknown") skipBecause(this, "/dev/kvm is served by a module these tests do not know: no truth to compare with");
    // 20 s: a kvm_pvm host on AMD hangs the guest silently (no internal-error), so only the wait tells.
    const created = await create(guestVm(localHost, "real", { accelerator: ["kvm", "tcg"], readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 20000 } }));
    const outs = created.outs;
    assert.strictEqual(outs.status, "running");
    assert.strictEqual(outs.acceleratorInUse, kind === "hardware" ? "kvm" : "tcg");
    const expected = { hardware: /^$/, none: /^QEMU could not start it under kvm: .*(Could not access KVM kernel module|failed to initialize kvm)/,
      kvm_pvm: /^the guest (stopped under kvm at run time \(run state internal-error: KVM internal error|did not get ready under kvm)/ }[kind];
    assert.match((outs.acceleratorFallbacks ?? []).join("; "), expected);
    await remove(created.id, outs);
    await nothingLeft(localHost, "real");
  });

  it("a guest in a reset loop (a boot sector that triple-faults) ends the readiness wait at once and leaves nothing", async () => {
    const image = path.join(workDir, "triple-fault.img");
    writeFileSync(image, tripleFaultBootSector());
    const t0 = Date.now();
    await assert.rejects(create({ host: localHost, name: "resets", memory: "32M", accelerator: "tcg", machine: "pc", networks: [],
      disks: [{ path: image, format: "raw", interface: "ide" }], readiness: { serialPattern: "NEVER-PRINTED", timeoutMs: 60000 } }),
    /did not run under tcg: the guest stopped under tcg at run time \(run state reset-loop: the boot CPU was reset \d+ times\)\.\n.*is in a reset loop before it was ready/);
    console.log(`      the reset loop ended the wait after ${Date.now() - t0} ms (timeout 60000 ms)`);
    assert.ok(Date.now() - t0 < 30000);
    await nothingLeft(localHost, "resets");
  });

  it("a guest whose kernel panics before it is ready (no init) ends the wait at once with the panic line, and leaves nothing", async function () {
    // The wait's own timeout is 10 minutes; the test's is 2: only the panic can end it in time.
    this.timeout(120000);
    const inputs = guestVm(localHost, "panics", { accelerator: "tcg", append: "console=ttyS0 rdinit=/pulumi-qemu-no-such-init",
      readiness: { serialPattern: READY, guestPort: 22, timeoutMs: 600000 } });
    await assert.rejects(create(inputs), (e: Error) =>
      /did not run under tcg: the guest did not get ready under tcg \(its kernel panicked before it was ready: Kernel panic - not syncing: [^\n]+\)\.\n.*the guest's kernel panicked before it was ready; serial log ends with:/.test(e.message));
    await nothingLeft(localHost, "panics");
  });

  it("a start error (a host port already taken) leaves nothing", async () => {
    const taken = net.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => taken.once("listening", r));
    try {
      const inputs = guestVm(localHost, "portclash", { accelerator: "tcg", ports: [{ host: (taken.address() as net.AddressInfo).port, guest: 22 }] });
      await assert.rejects(create(inputs), /QEMU did not start VM portclash: .*host forwarding rule/);
    } finally {
      taken.close();
    }
    await nothingLeft(localHost, "portclash");
  });

  it("a readiness timeout leaves nothing, and says what the serial log last showed", async () => {
    const inputs = guestVm(localHost, "neverready", { accelerator: "tcg", readiness: { serialPattern: "NEVER-PRINTED", timeoutMs: 3000 } });
    await assert.rejects(create(inputs), (e: Error) => /did not run under tcg: the guest did not get ready under tcg \(waited 3000 ms for serial log pattern \/NEVER-PRINTED\/\)\.\n.*not ready within 3000 ms: waiting for serial log pattern \/NEVER-PRINTED\/; serial log ends with:/.test(e.message));
    await nothingLeft(localHost, "neverready");
  });
});
