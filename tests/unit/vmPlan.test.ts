/** Planning a VM (pure) and diff: desired vs observed vs old inputs. */
import * as assert from "assert";
import * as vm from "../../provider/resources/vm";
import { runStateOf, type RunState } from "../../provider/vm/observe";
import { describeVmAction, planCreate, planFound, planStop, planVm, type StopRung, type CreateAction, type FoundAction, type VmAction } from "../../provider/vm/plan";
import { enableProgress } from "../../provider/progress";
import { vmSpec, type VmInputs } from "../../provider/vm/spec";

const host = { kind: "local" as const, workDir: "/w" };
const base: VmInputs = { host, name: "web", memory: "256M", ports: [{ host: 2222, guest: 22 }] };
const spec = (i: Partial<VmInputs> = {}) => vmSpec({ ...base, ...i }).spec;

describe("VM plan: stop and delete (the ladder)", () => {
  const cases: Array<[string, RunState, number, StopRung[]]> = [
    ["stopped: nothing to do (delete only removes the files)", "stopped", 30000, []],
    ["running: powerdown first", "running", 30000, ["system_powerdown", "quit", "SIGTERM", "SIGKILL"]],
    ["running, powerdown wait 0: straight to quit", "running", 0, ["quit", "SIGTERM", "SIGKILL"]],
    ["paused: cannot hear powerdown", "paused", 30000, ["quit", "SIGTERM", "SIGKILL"]],
    ["failed: cannot hear powerdown", "failed", 30000, ["quit", "SIGTERM", "SIGKILL"]],
  ];
  for (const [what, state, powerdownMs, expected] of cases) it(what, () => assert.deepStrictEqual(planStop(state, powerdownMs), expected));
  const withAgent: Array<[string, RunState, number, StopRung[]]> = [
    ["running with an agent: its shutdown after ACPI, before quit", "running", 30000, ["system_powerdown", "guest-shutdown", "quit", "SIGTERM", "SIGKILL"]],
    ["running with an agent, powerdown wait 0: no graceful rung", "running", 0, ["quit", "SIGTERM", "SIGKILL"]],
    ["paused with an agent: a paused guest's agent cannot answer", "paused", 30000, ["quit", "SIGTERM", "SIGKILL"]],
  ];
  for (const [what, state, powerdownMs, expected] of withAgent) it(what, () => assert.deepStrictEqual(planStop(state, powerdownMs, true), expected));
});

describe("VM plan: create", () => {
  const cases: Array<[string, "running" | "stopped" | "any", boolean, CreateAction]> = [
    ["running: start", "running", false, { kind: "start" }],
    ["any: created running", "any", false, { kind: "start" }],
    ["stopped: nothing runs", "stopped", false, { kind: "none" }],
    ["stopped with adopt: nothing to adopt", "stopped", true, { kind: "none" }],
    ["running with adopt: adopt", "running", true, { kind: "adopt" }],
  ];
  for (const [what, desired, adopt, expected] of cases) it(what, () => assert.deepStrictEqual(planCreate(desired, adopt), expected));
});

describe("VM plan: an instance the start script found already running", () => {
  const cases: Array<[string, RunState, Partial<VmInputs> | "none", boolean, boolean, FoundAction]> = [
    ["a failed guest is replaced, whatever its spec", "failed", { memory: "512M" }, true, false, { kind: "replace" }],
    ["a failed guest is replaced on update too", "failed", {}, false, false, { kind: "replace" }],
    ["another spec is refused (spec)", "running", { cpus: 2 }, false, false, { kind: "refuse", property: "spec", because: ["cpus"] }],
    ["another spec is refused even with adopt", "running", { memory: "512M" }, true, true, { kind: "refuse", property: "spec", because: ["memory"] }],
    ["an unreadable spec is refused", "running", "none", false, false, { kind: "refuse", property: "spec", because: ["unreadable spec"] }],
    ["this spec, by a create without adopt: another's (name)", "running", {}, true, false, { kind: "refuse", property: "name", because: [] }],
    ["this spec, by a create with adopt: kept", "running", {}, true, true, { kind: "keep" }],
    ["this spec, by an update (start or restart): kept", "paused", {}, false, false, { kind: "keep" }],
  ];
  for (const [what, state, started, creating, adopt, expected] of cases) {
    it(what, () => {
      const startedSpec = started === "none" ? undefined : spec(started);
      assert.deepStrictEqual(planFound({ state, startedSpec }, spec(), creating, adopt), expected);
    });
  }
});

describe("VM plan", () => {
  const cases: Array<[string, "running" | "stopped" | "any", RunState, Partial<VmInputs> | undefined, VmAction]> = [
    ["stopped, want running", "running", "stopped", undefined, { kind: "start" }],
    ["running as declared", "running", "running", {}, { kind: "none" }],
    ["running, memory changed", "running", "running", { memory: "512M" }, { kind: "restart", because: ["memory"] }],
    ["running, cpus and disks changed", "running", "running", { cpus: 2, disks: ["/d.qcow2"] }, { kind: "restart", because: ["cpus", "disks"] }],
    ["paused as declared", "running", "paused", {}, { kind: "resume" }],
    ["paused, spec changed", "running", "paused", { cpus: 4 }, { kind: "restart", because: ["cpus"] }],
    ["failed (guest dead, QEMU alive)", "running", "failed", {}, { kind: "restart", because: ["state"] }],
    ["running, want stopped", "stopped", "running", {}, { kind: "stop" }],
    ["failed, want stopped", "stopped", "failed", {}, { kind: "stop" }],
    ["stopped, want stopped", "stopped", "stopped", {}, { kind: "none" }],
    ["any: stopped by the user, left stopped", "any", "stopped", {}, { kind: "none" }],
    ["any: paused by the user, left paused", "any", "paused", {}, { kind: "none" }],
    ["any: failed, left alone", "any", "failed", {}, { kind: "none" }],
    ["any: running as declared", "any", "running", {}, { kind: "none" }],
    ["any: running, memory changed", "any", "running", { memory: "512M" }, { kind: "restart", because: ["memory"] }],
    ["any: paused, cpus changed", "any", "paused", { cpus: 2 }, { kind: "restart", because: ["cpus"] }],
    ["any: stopped, spec changed (applies at the next start)", "any", "stopped", { cpus: 2 }, { kind: "none" }],
  ];
  for (const [what, desired, state, started, expected] of cases) {
    it(what, () => {
      // The running instance was started with `started` applied on top of base; desired is base.
      const startedSpec = started ? spec(started) : undefined;
      assert.deepStrictEqual(planVm(desired, spec(), { state, startedSpec }), expected);
    });
  }
  it("key order does not count as a change (the engine's state sorts keys)", () => {
    const sorted = JSON.parse(JSON.stringify(spec(), (_k, v) => (v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().reverse().map((k) => [k, v[k]])) : v)));
    assert.deepStrictEqual(planVm("running", spec(), { state: "running", startedSpec: sorted }), { kind: "none" });
  });
  it("every QMP run state maps to one of ours", () => {
    const table: Record<string, RunState> = {
      running: "running", paused: "paused", suspended: "paused", prelaunch: "paused", inmigrate: "paused", debug: "paused",
      postmigrate: "paused", "finish-migrate": "paused", "restore-vm": "failed", "save-vm": "paused", colo: "paused",
      "internal-error": "failed", "io-error": "failed", "guest-panicked": "failed", shutdown: "failed", watchdog: "failed",
      "some-future-state": "failed",
    };
    for (const [qmp, ours] of Object.entries(table)) assert.strictEqual(runStateOf(qmp), ours, qmp);
  });
});

describe("Vm diff (what preview shows)", () => {
  const olds = { ...base, spec: spec(), status: "running", statusDetail: "" } as unknown as vm.VmOutputs;
  const cases: Array<[string, Partial<vm.VmOutputs>, Partial<VmInputs>, { changes: boolean; replaces: string[] }]> = [
    ["nothing changed", {}, {}, { changes: false, replaces: [] }],
    ["memory: update (restart)", {}, { memory: "1G" }, { changes: true, replaces: [] }],
    ["state stopped: update (stop only)", {}, { state: "stopped" }, { changes: true, replaces: [] }],
    ["the VM died (refresh saw it): update", { status: "stopped" }, {}, { changes: true, replaces: [] }],
    ["state any, stopped by the user: no change", { state: "any", status: "stopped" }, { state: "any" }, { changes: false, replaces: [] }],
    ["state any, paused by the user: no change", { state: "any", status: "paused" }, { state: "any" }, { changes: false, replaces: [] }],
    ["state running -> any: update (no start or stop)", {}, { state: "any" }, { changes: true, replaces: [] }],
    ["another host: replace", {}, { host: { kind: "local", workDir: "/other" } }, { changes: true, replaces: ["host"] }],
    ["another name: replace", {}, { name: "web2" }, { changes: true, replaces: ["name"] }],
    ["readiness only: update without restart", {}, { readiness: { timeoutMs: 5000 } }, { changes: true, replaces: [] }],
    ["the same SSH host with a rotated key: update in place, no replace",
      { host: { kind: "ssh", host: "h", user: "u", privateKey: "old key", hostKey: "ssh-ed25519 AAAA", workDir: "/w" } },
      { host: { kind: "ssh", host: "h", user: "u", privateKey: "new key", hostKey: "ssh-ed25519 AAAA", workDir: "/w" } }, { changes: true, replaces: [] }],
  ];
  for (const [what, old, news, expected] of cases) {
    it(what, async () => {
      const d = await vm.diff("id", { ...olds, ...old } as vm.VmOutputs, { ...base, ...news });
      assert.deepStrictEqual({ changes: d.changes, replaces: d.replaces }, expected);
    });
  }
});

describe("VM plan: what a preview says an update does", () => {
  const cases: Array<[VmAction, string | undefined]> = [
    [{ kind: "none" }, undefined],
    [{ kind: "start" }, "starts it (it is stopped)"],
    [{ kind: "stop" }, "stops it"],
    [{ kind: "resume" }, "resumes it (it is paused)"],
    [{ kind: "restart", because: ["cpus", "memory"] }, "restarts it (cpus, memory changed)"],
    [{ kind: "restart", because: ["state"] }, "restarts it (its guest has failed)"],
  ];
  for (const [action, expected] of cases) it(`${action.kind}: ${expected}`, () => assert.strictEqual(describeVmAction(action), expected));

  it("diff prints it for the VM, planned from the recorded run state", async () => {
    const printed: string[] = [];
    const log = console.log;
    enableProgress();
    console.log = (line: string) => printed.push(line);
    try {
      const olds = { ...base, spec: spec(), status: "running" } as unknown as vm.VmOutputs;
      await vm.diff("id", olds, { ...base, memory: "512M" });
      await vm.diff("id", { ...olds, status: "stopped" } as vm.VmOutputs, base);
      await vm.diff("id", olds, base);
      await vm.diff("id", olds, { ...base, state: "stopped" });
    } finally {
      console.log = log;
      enableProgress(false);
    }
    assert.deepStrictEqual(printed, ["pulumi-qemu: VM web: the update restarts it (memory changed)", "pulumi-qemu: VM web: the update starts it (it is stopped)", "pulumi-qemu: VM web: the update stops it"]);
  });
});
