import * as assert from "assert";
import { qemuMessages } from "../../provider/qemu/messages";
import { observedFrom, parseRunStateLine, runStateOf } from "../../provider/vm/observe";
import { splitBlocks } from "../../provider/vm/observeBatch";

describe("observe parsing", () => {
  // The first two lines were written by QEMU 7.2 here (-trace enable=runstate_set -D FILE);
  // the prefixed one is the log backend's form with message timestamps on.
  const table: Array<[string | undefined, string | undefined]> = [
    ["runstate_set current_run_state 6 (prelaunch) new_state 9 (running)", "running"],
    ["runstate_set current_run_state 9 (running) new_state 4 (paused)", "paused"],
    ["4242@1764012345.123456:runstate_set current_run_state 9 (running) new_state 7 (guest-panicked)", "guest-panicked"],
    ["", undefined],
    [undefined, undefined],
    ["qemu-system-x86_64: warning: something else", undefined],
  ];
  for (const [line, want] of table) {
    it(`run-state trace ${JSON.stringify(line)} -> ${want}`, () => assert.strictEqual(parseRunStateLine(line), want));
  }

  it("a traced guest panic is failed, a traced pause is paused", () => {
    assert.strictEqual(runStateOf(parseRunStateLine(table[2][0])!), "failed");
    assert.strictEqual(runStateOf(parseRunStateLine(table[1][0])!), "paused");
  });

  it("the boot CPU's reset count comes with the trace (a reset loop is told from it), and is no message of QEMU's", async () => {
    const values = new Map([["pid", "12"], ["ours", "1"], ["runstate", table[0][0]!], ["bootcpu_resets", "9"]]);
    const observed = await observedFrom(undefined as never, values);
    assert.deepStrictEqual([observed.state, observed.bootCpuResets], ["running", 9]);
    values.delete("bootcpu_resets");
    assert.strictEqual((await observedFrom(undefined as never, values)).bootCpuResets, undefined);
    assert.deepStrictEqual(qemuMessages("guest_cpu_reset cpu=0x55aa667d4cc0 \nqemu-system-x86_64: real words\n"), ["qemu-system-x86_64: real words"]);
  });

  it("the batch output splits per VM in order; a VM the script did not reach is an error", () => {
    const out = "vm=0\npid=12\nours=1\nspec={\"a\":\"b=c\"}\nvm=1\npid=\nours=0\n";
    const blocks = splitBlocks(out, 2);
    assert.strictEqual(blocks[0].get("pid"), "12");
    assert.strictEqual(blocks[0].get("spec"), '{"a":"b=c"}');
    assert.strictEqual(blocks[1].get("ours"), "0");
    assert.throws(() => splitBlocks(out, 3), /reported 2 of 3 VMs/);
  });
});
