/**
 * Refresh at scale: reads of many VMs on one host that arrive together cost one shell command,
 * and the run state comes from QEMU's run-state trace (QMP only for instances without one).
 */
import * as assert from "assert";
import { vmHandle } from "../../provider/vm/handle";
import { randomBytes } from "crypto";
import * as vm from "../../provider/resources/vm";
import { closeAllSshTransports, sshTransport, type Connection } from "../../provider/transport";
import { withQmp } from "../../provider/qemu/qmp";
import { vmLayout, vmLayoutAt } from "../../provider/layout";
import { observeArgv } from "../../provider/platform/posixVmScripts";
import { stopVm } from "../../provider/vm/execute";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { isAlive, procStat } from "../helpers/processes";
import { sessionsStarted, sshOptionsFor, testbed } from "../testbed/testbed";

describe("Vm refresh (coalesced reads, real QEMU on an SSH host)", function () {
  this.timeout(120000);
  const [h1] = testbed().hosts;
  const workDir = `${h1.workDir}/refresh-${randomBytes(3).toString("hex")}`;
  const conn: Connection = { kind: "ssh", ...sshOptionsFor(h1), workDir };
  const image = `${workDir}/halt.img`;
  const onHost = () => sshTransport(sshOptionsFor(h1));
  const created: Array<{ id: string; outs: vm.VmOutputs }> = [];
  const readProps = async (c: { id: string; outs: vm.VmOutputs }) => (await vm.read(c.id, c.outs)).props!;
  const names = Array.from({ length: 6 }, (_, i) => `refresh-${i}`);

  before(async () => {
    await onHost().exec(["mkdir", "-p", workDir]);
    await onHost().writeFile(image, haltBootSector());
    for (const name of names) created.push(await vm.create(haltingVm(conn, name, image)));
  });
  after(async () => {
    for (const c of created) await vm.remove(c.id, c.outs).catch(() => undefined);
    await onHost().exec(["rm", "-rf", "--", workDir]).catch(() => undefined);
    await closeAllSshTransports();
  });

  it("six reads arriving together use one SSH channel and see each VM running, by its trace", async () => {
    const before = sessionsStarted(h1);
    const read = await Promise.all(created.map(readProps));
    assert.strictEqual(sessionsStarted(h1) - before, 1, "one channel for six reads, as h1's sshd counts sessions");
    for (const [i, r] of read.entries()) {
      assert.strictEqual(r.status, "running", `${names[i]}: ${r.statusDetail}`);
      assert.strictEqual(r.pid, created[i].outs.pid);
      assert.match(r.statusDetail, /run-state trace says running/);
    }
  });

  it("a VM paused through QMP reads as paused from the trace; after cont, running", async () => {
    const layout = vmLayoutAt(created[2].outs.stateDir);
    await withQmp(onHost(), layout.qmpSocket, 5000, (q) => q.execute("stop"));
    const paused = await readProps(created[2]);
    assert.strictEqual(paused.status, "paused", paused.statusDetail);
    assert.match(paused.statusDetail, /trace says paused/);
    await withQmp(onHost(), layout.qmpSocket, 5000, (q) => q.execute("cont"));
    assert.strictEqual((await readProps(created[2])).status, "running");
  });

  it("the start records the instance's PID and start time; a read falls back to the command line when they disagree", async () => {
    const layout = vmLayoutAt(created[4].outs.stateDir);
    const pid = created[4].outs.pid!;
    const startTime = procStat(pid)[19];
    assert.strictEqual((await onHost().readFile(layout.identity)).toString(), `${pid} ${startTime}\n`);
    await onHost().writeFile(layout.identity, `${pid} 1\n`);
    const r = await readProps(created[4]);
    assert.strictEqual(r.status, "running", r.statusDetail);
    assert.strictEqual(r.pid, pid);
  });

  it("the identity file alone tells the instance from a look-alike whose command line does not name the VM", async () => {
    // A process at the pidfile's PID whose command line has neither guest=NAME nor the pidfile
    // (an adopted QEMU's may not): only its recorded PID and start time make it the VM's.
    const layout = vmLayout(workDir, "lookalike.0a0b0c0d");
    const started = await onHost().exec(["sh", "-c", 'mkdir -p "$1"; setsid sleep 300 </dev/null >/dev/null 2>&1 & p=$!; echo "$p" > "$2"; ' +
      'read -r st < "/proc/$p/stat"; set -- ${st##*") "}; shift 19; echo "$p $1"', "lookalike", layout.dir, layout.pidfile]);
    const [pid, startTime] = started.stdout.trim().split(" ");
    const ours = async () => /^ours=1$/m.test((await onHost().exec(observeArgv([{ layout, name: "lookalike" }]))).stdout);
    try {
      await onHost().writeFile(layout.identity, `${pid} ${startTime}\n`);
      assert.strictEqual(await ours(), true, "the recorded PID and start time did not make it the VM's");
      await onHost().writeFile(layout.identity, `${pid} ${Number(startTime) + 1}\n`);
      assert.strictEqual(await ours(), false, "another start time (a reused PID) still made it the VM's");
      await onHost().exec(["rm", "-f", layout.identity]);
      assert.strictEqual(await ours(), false, "without the identity, a process that does not name the VM was taken for it");
    } finally {
      await onHost().exec(["kill", pid]);
    }
  });

  it("an instance without a trace (started by an older version) is asked through QMP", async () => {
    await onHost().exec(["rm", "-f", "--", vmLayoutAt(created[3].outs.stateDir).qemuLog]);
    const r = await readProps(created[3]);
    assert.strictEqual(r.status, "running");
    assert.match(r.statusDetail, /QMP says running/);
  });

  it("QMP shows QEMU's end: the session stays open while it runs and closes when quit ends it (a stop waits for that, not for a poll)", async () => {
    const layout = vmLayoutAt(created[5].outs.stateDir);
    const pid = created[5].outs.pid!;
    await withQmp(onHost(), layout.qmpSocket, 5000, async (q) => {
      assert.strictEqual(await q.ended(300), false, "the session closed while QEMU runs");
      await q.execute("quit");
      assert.strictEqual(await q.ended(5000), true, "quit did not close the session");
    });
    const gone = Date.now() + 5000;
    while (Date.now() < gone && isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!isAlive(pid), `QEMU (pid ${pid}) still runs`);
  });

  it("the stop ladder on one QMP session: powerdown (ignored by this guest), then quit; the VM is gone and its runtime files too", async () => {
    const layout = vmLayoutAt(created[0].outs.stateDir);
    const used = await stopVm(vmHandle(onHost(), layout), { powerdownMs: 300, quitMs: 3000 });
    assert.deepStrictEqual(used, ["system_powerdown", "quit"]);
    assert.ok(!isAlive(created[0].outs.pid!), "QEMU still runs");
    assert.strictEqual((await onHost().exec(["test", "-e", layout.pidfile])).exitCode, 1, "pidfile left");
  });
});
