/**
 * Read and delete take the resource as the state recorded it: an input that today's checks
 * would refuse (as a stricter release may) does not strand a VM, a Host or a report.
 */
import * as assert from "assert";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as host from "../../provider/resources/host";
import * as caps from "../../provider/resources/hostCapabilities";
import * as vm from "../../provider/resources/vm";
import type { Connection } from "../../provider/transport";
import { haltBootSector, haltingVm } from "../helpers/haltingGuest";
import { killProcess, liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";

describe("read and delete of recorded state that today's checks refuse", function () {
  this.timeout(60000);
  const workDir = mkdtempSync(path.join(tmpdir(), "pq-recorded-"));
  const local: Connection = { kind: "local", workDir };
  after(() => {
    for (const pid of liveQemuPids(`-pidfile ${workDir}/`)) killProcess(pid); // a failed test's VM
    rmSync(workDir, { recursive: true, force: true });
  });

  it("Vm: read sees it running and delete stops it, though its recorded memory and cpus are refused today", async () => {
    const image = path.join(workDir, "halt.img");
    writeFileSync(image, haltBootSector());
    const created = await vm.create(haltingVm(local, "old", image));
    const recorded = { ...created.outs, memory: "a lot", cpus: 0 };
    assert.ok((await vm.check(undefined, recorded)).failures?.length, "today's check accepts it: the test proves nothing");
    const read = await vm.read(created.id, recorded);
    assert.strictEqual(read.props?.status, "running");
    await vm.remove(created.id, recorded);
    assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
    assert.deepStrictEqual(await vmStateDirs(workDir, "old"), []);
  });

  it("Host and HostCapabilities: a refresh of recorded inputs that today's checks refuse", async () => {
    const made = await host.create({ workDir });
    const recorded = { ...made.outs, workDir: "relative/dir", workDirIsDefault: false };
    assert.ok((await host.check(recorded, recorded)).failures?.length, "today's check accepts it: the test proves nothing");
    assert.strictEqual((await host.read(made.id, recorded)).props?.os, "Linux");
    const report = await caps.create({ host: local });
    const odd = { ...report.outs, guestArch: "Not An Arch!" };
    assert.ok((await caps.check(undefined, odd)).failures?.length, "today's check accepts it: the test proves nothing");
    assert.ok((await caps.read(report.id, odd)).props?.accelerators.length);
  });
});
