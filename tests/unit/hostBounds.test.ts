/**
 * Issue 18, class 10: what a host sends is bounded. known_hosts patterns are matched without a
 * backtracking regex; a QMP peer that never ends its line is cut off. (The bound on a command's
 * output is in the transport contract, against the real transports.)
 */
import * as assert from "assert";
import { Duplex } from "stream";
import { MAX_QMP_LINE, QmpClient } from "../../provider/qemu/qmp";
import { globMatch } from "../../provider/transport/hostKey";

describe("known_hosts patterns (globMatch)", () => {
  const cases: Array<[string, string, boolean]> = [
    ["*.lab", "web.lab", true], ["*.lab", "web.lab.evil", false], ["10.0.0.?", "10.0.0.5", true], ["10.0.0.?", "10.0.0.50", false],
    ["*", "", true], ["", "", true], ["", "a", false], ["a*b*c", "aXXbYYc", true], ["a*b*c", "aXXbYY", false], ["[h]:22", "[h]:22", true],
    ["h.lab", "h.lab", true], ["h.lab", "hxlab", false], ["*?", "", false], ["**", "x", true],
  ];
  for (const [pattern, text, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(text)}`, () => assert.strictEqual(globMatch(pattern, text), expected));
  }
  it("a pattern written to make a backtracking matcher take exponential time is answered (false) at once", () => {
    assert.strictEqual(globMatch(`${"*a".repeat(40)}b`, "a".repeat(5000)), false);
  });
});

describe("QMP: a peer that never ends its line", () => {
  it("is cut off once the line passes the bound, and the waiting call fails naming it", async () => {
    const fromQemu = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    const opening = QmpClient.open(fromQemu, "test-host: VM flood", 30000);
    const chunk = "x".repeat(2 ** 20);
    for (let i = 0; i <= MAX_QMP_LINE / chunk.length; i++) fromQemu.push(chunk);
    await assert.rejects(opening, /test-host: VM flood: QMP sent a line of more than \d+ characters; connection closed/);
  });
});
