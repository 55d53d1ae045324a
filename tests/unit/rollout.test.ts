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

  it("groups are independent, and a failure lets the next host go", async () => {
    const events: string[] = [];
    const failing = oneHostAtATime("fleet-b", "h1", async () => { await tick(5); throw new Error("boom"); });
    const other = oneHostAtATime("fleet-c", "h9", async () => { events.push("c h9"); });
    const next = oneHostAtATime("fleet-b", "h2", async () => { events.push("b h2"); });
    await assert.rejects(failing, /boom/);
    await Promise.all([other, next]);
    assert.deepStrictEqual(events, ["c h9", "b h2"]);
  });
});
