/** Property: any string reaches the remote program unchanged through the quoting and the login shell. */
import * as assert from "assert";
import fc from "fast-check";
import { LocalTransport, shJoin, sshTransport, type Transport } from "../../provider/transport";
import { sshOptionsFor, testbed } from "../testbed/testbed";

const CORPUS = ["'", '"', "$(id)", "`id`", ";", "\n", " ", ",", "=", "..", "-n", "--", "é", "日本", "\\", "$HOME", "*",
  "!", "&&", "|", ">", "<", "#", "~", "\t", "%s", "\u2019", "a".repeat(200), ""];

const argument = fc.oneof(
  fc.constantFrom(...CORPUS),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.constantFrom(...CORPUS), { maxLength: 6 }).map((parts) => parts.join("")),
).filter((s) => !s.includes("\0") && Buffer.from(s, "utf8").toString("utf8") === s);

async function echoBack(t: Transport, args: string[], throughSh: boolean): Promise<string[]> {
  const argv = ["printf", "%s\\0", ...args];
  const r = await t.exec(throughSh ? ["sh", "-c", shJoin(argv)] : argv);
  assert.strictEqual(r.exitCode, 0, r.stderr);
  return r.stdout.split("\0").slice(0, -1);
}

function roundTrips(label: string, make: () => Transport, throughSh: boolean) {
  it(`round-trips any argv unchanged: ${label}`, async () => {
    const t = make();
    assert.deepStrictEqual(await echoBack(t, CORPUS, throughSh), CORPUS);
    await fc.assert(fc.asyncProperty(fc.array(argument, { minLength: 1, maxLength: 8 }), async (args) => {
      assert.deepStrictEqual(await echoBack(t, args, throughSh), args);
    }), { numRuns: 150 });
  });
}

describe("quoting round trip (fast-check)", function () {
  this.timeout(120000);
  const bed = testbed();
  const [h1, h2, h3] = bed.hosts;
  roundTrips("local sh -c", () => new LocalTransport(), true);
  roundTrips(`ssh ${bed.rootUser}@h1 (login shell dash)`, () => sshTransport(sshOptionsFor(h1)), false);
  roundTrips(`ssh ${bed.plainUser}@h3 (login shell dash)`, () => sshTransport(sshOptionsFor(h3, { user: bed.plainUser })), false);
  it("round-trips the corpus through root's bash login shell", async () => {
    const t = sshTransport(sshOptionsFor(h2, { user: "root" }));
    assert.deepStrictEqual(await echoBack(t, CORPUS, false), CORPUS);
  });
});
