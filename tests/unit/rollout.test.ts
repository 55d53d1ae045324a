import * as assert from "assert";
import { oneHostAtATime } from "../../provider/vm/rollout";

describe("rollout: one host at a time", () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("restarts of one host overlap; those of another host start only after all of them ended", async () => {
    const events: string[] = [];
    const waitedFor: string[] = [];
    const restart = (host: string, id: string, ms: number) => oneHostAtATime("fleet-a", host, async () => {
      events.push(`start ${host} ${id}`);
      await tick(ms);
      events.push(`end ${host} ${id}`);
    }, (active) => waitedFor.push(`${host} waits for ${active}`));
    await Promise.all([restart("h1", "a", 30), restart("h2", "b", 5), restart("h1", "c", 10), restart("h3", "d", 5), restart("h2", "e", 5)]);
    const hostOf = (e: string) => e.split(" ")[1];
    // Once a host's last restart ended, that host never shows up again, and no two hosts interleave.
    const order = events.map(hostOf).filter((h, i, all) => i === 0 || all[i - 1] !== h);
    assert.deepStrictEqual(order, ["h1", "h2", "h3"], events.join("; "));
    assert.deepStrictEqual(events.slice(0, 2), ["start h1 a", "start h1 c"], "a host's restarts run together");
    assert.deepStrictEqual(waitedFor, ["h2 waits for h1", "h3 waits for h1", "h2 waits for h1"]);
  });

  it("groups are independent; a failure stops the rollout: later hosts are left, told what failed and what went through", async () => {
    const events: string[] = [];
    const restart = (group: string, host: string, what: string, fails = false) => oneHostAtATime(group, host, async () => {
      await tick(5);
      if (fails) throw new Error("never ready\nmore detail");
      events.push(`${group} ${what}`);
    }, () => undefined, what);
    const first = restart("fleet-b", "h1", "VM a");
    const failing = restart("fleet-b", "h1", "VM b", true);
    const other = restart("fleet-c", "h9", "VM x");
    const later = Promise.allSettled([restart("fleet-b", "h2", "VM c"), restart("fleet-b", "h3", "VM d")]);
    await assert.rejects(failing, /never ready/);
    await Promise.all([first, other]);
    for (const [k, what] of ["VM c", "VM d"].entries()) {
      const settled = (await later)[k];
      assert.strictEqual(settled.status, "rejected", `${what} ran`);
      assert.match(String((settled as PromiseRejectedResult).reason), new RegExp(`^Error: ${what}: left as it was: the rolling update stopped on h1, where VM b failed to restart \\(never ready\\); restarted before it: VM a$`));
    }
    assert.deepStrictEqual(events.sort(), ["fleet-b VM a", "fleet-c VM x"], "a later host was restarted");
    // The group is gone: the next run starts afresh.
    await restart("fleet-b", "h2", "VM c");
    assert.ok(events.includes("fleet-b VM c"));
  });
});
