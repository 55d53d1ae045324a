/** The FleetPlacement resource's check and diff (pure): the plan from the last run's record, in a preview too. */
import * as assert from "assert";
import { check, diff, moveLine, type FleetPlacementInputs } from "../../provider/resources/fleetPlacement";
import { UNKNOWN } from "../../provider/resources/types";
import { enableProgress } from "../../provider/progress";

const GiB = 2 ** 30;
const hosts = [{ key: "h1", cores: 4, memoryBytes: 4 * GiB }, { key: "h2", cores: 4, memoryBytes: 4 * GiB }];
const base: FleetPlacementInputs = { fleet: "lab", names: ["web", "db", "cache", "queue"], hostKeys: ["h1", "h2"], hosts, needs: { cpus: 1, memoryBytes: GiB / 2 }, placement: "spread" };

describe("FleetPlacement resource", () => {
  it("records seats at the first run and keeps them at the next", async () => {
    const first = (await check({}, base)).inputs!;
    assert.deepStrictEqual(first.seats, { web: { host: "h1", slot: 0 }, db: { host: "h2", slot: 1 }, cache: { host: "h1", slot: 2 }, queue: { host: "h2", slot: 3 } });
    const next = (await check(first, { ...base, names: ["web", "cache", "queue"] })).inputs!;
    assert.deepStrictEqual(next.seats, { web: { host: "h1", slot: 0 }, cache: { host: "h1", slot: 2 }, queue: { host: "h2", slot: 3 } });
    assert.deepStrictEqual(next.moves, []);
  });

  it("a preview with hosts' figures unknown keeps the seated members, and leaves a plan with a new one unknown", async () => {
    const first = (await check({}, base)).inputs!;
    const unknownHosts = [hosts[0], UNKNOWN as unknown as typeof hosts[0]]; // a host whose figures a preview does not know
    const same = (await check(first, { ...base, hosts: unknownHosts })).inputs!;
    assert.deepStrictEqual(same.seats, first.seats);
    const grown = (await check(first, { ...base, names: [...base.names, "log"], hosts: unknownHosts })).inputs!;
    assert.deepStrictEqual(["web", "db", "cache", "queue", "log"].map((m) => grown[`host:${m}`]), ["h1", "h2", "h1", "h2", UNKNOWN],
      "each member's host is its own property: only the new one is unknown");
    assert.deepStrictEqual(grown.slots, { web: 0, db: 1, cache: 2, queue: 3, log: 4 }, "slots (addresses, ports) are known all the same");
    const rebalanced = (await check(first, { ...base, hosts: unknownHosts, rebalance: true })).inputs!;
    assert.strictEqual(rebalanced["host:web"], UNKNOWN, "a rebalance waits for the figures");
  });

  it("a plan that does not fit is a check failure naming the fleet and the property", async () => {
    const r = await check({}, { ...base, needs: { cpus: 1, memoryBytes: 3 * GiB } });
    assert.strictEqual(r.failures?.[0].property, "template.memory");
    assert.match(r.failures![0].reason, /^Fleet lab: 4 members of 1 vCPU and 3\.0 GiB do not fit \(spread\)/);
  });

  it("a pin to no host is a check failure, also while hosts' figures are unknown", async () => {
    for (const hostsNow of [hosts, [hosts[0], UNKNOWN as unknown as typeof hosts[0]]]) {
      const r = await check({}, { ...base, hosts: hostsNow, pin: { db: "h9" } });
      assert.deepStrictEqual(r.failures, [{ property: "pin.db", reason: 'Fleet lab: there is no host "h9" in hosts' }]);
    }
  });

  it("a template that no longer fits is refused with the seated members counted; a host reporting less memory is not", async () => {
    const first = (await check({}, base)).inputs!;
    const bigger = await check(first, { ...base, needs: { cpus: 1, memoryBytes: 2 * GiB } });
    assert.match(bigger.failures?.[0].reason ?? "", /^Fleet lab: 4 members \(0 of them new\) of 1 vCPU and 2\.0 GiB do not fit \(spread\): h1 has 2, room for 1/);
    const smaller = hosts.map((h) => ({ ...h, memoryBytes: 0.9 * GiB }));
    assert.deepStrictEqual((await check(first, { ...base, hosts: smaller })).inputs!.seats, first.seats);
  });

  it("diff: a move is a change and the preview line names the member, its hosts and its disk", async () => {
    const first = (await check({}, base)).inputs!;
    const pinned = (await check(first, { ...base, pin: { db: "h1" } })).inputs!;
    assert.deepStrictEqual(pinned.moves, [{ member: "db", from: "h2", to: "h1", why: "pinned to h1" }]);
    assert.strictEqual(moveLine("lab", pinned.moves![0]), "Fleet lab: member db moves from h2 to h1 (pinned to h1): its disk db-disk is replaced there, and what the member kept on it is lost");
    const lines: string[] = [];
    const log = console.log;
    console.log = (m: string) => lines.push(m);
    enableProgress(true);
    try {
      assert.strictEqual((await diff("p", first, pinned)).changes, true);
      assert.strictEqual((await diff("p", first, (await check(first, { ...base })).inputs!)).changes, false);
    } finally {
      enableProgress(false);
      console.log = log;
    }
    assert.deepStrictEqual(lines, [`pulumi-qemu: ${moveLine("lab", pinned.moves![0])}`]);
  });
});
