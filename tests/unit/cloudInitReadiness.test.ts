/**
 * readiness.cloudInit on serial logs recorded from the testbed's Debian image under TCG
 * (tests/unit/fixtures/*.serial, cloud-init's console lines): a good boot finishes without a
 * report; broken user-data is reported in cloud-init's words before its final stage.
 */
import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { CLOUD_INIT_FINISHED, cloudInitFailure, cloudInitResult } from "../../provider/vm/cloudInitReadiness";

const recorded = (name: string) => readFileSync(path.join(__dirname, "../../../tests/unit/fixtures", name), "utf8");

describe("readiness.cloudInit (recorded serial logs of the real image)", () => {
  it("a good boot: no report, and the final stage's line is found", () => {
    const good = recorded("cloud-init-good.serial");
    assert.strictEqual(cloudInitFailure(good), undefined);
    assert.match(CLOUD_INIT_FINISHED.exec(good)![0], /^Cloud-init v\. 22\.4\.2 finished at .* Up [\d.]+ seconds$/);
  });

  it("broken user-data: cloud-init's first warning with its YAML detail, nothing of the lines around it", () => {
    const failure = cloudInitFailure(recorded("cloud-init-bad-yaml.serial"))!;
    assert.strictEqual(failure.complete, true);
    assert.deepStrictEqual(failure.text.split("\n"), [
      "2026-12-02 23:26:18 UTC WARNING: Failed loading yaml blob. Invalid format at line 2 column 10: \"while parsing a flow mapping",
      "  in \"<unicode string>\", line 2, column 10:",
      "    users: [ {name: tester",
      "             ^",
      "expected ',' or '}', but got ':'",
      "  in \"<unicode string>\", line 3, column 7:",
      "    runcmd:",
      "          ^\"",
    ]);
  });

  it("reads a report without the kernel's time stamp, and with Windows line ends; skips other writers' lines", () => {
    const text = "cloud-init[9]: 2026-01-01 00:00:00,000 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user\r\n" +
      "[   36.93] random: crng init done\r\ncloud-init[9]: still the same message\r\nsystemd[1]: Started foo.\r\ncloud-init[10]: other\r\n";
    assert.deepStrictEqual(cloudInitFailure(text), { text: "2026-01-01 00:00:00 UTC WARNING: Failed to run module scripts-user\nstill the same message", complete: true });
    assert.strictEqual(cloudInitFailure("sshd[9]: 2026-01-01 00:00:00,000 - util.py[WARNING]: not cloud-init's"), undefined);
    assert.strictEqual(cloudInitFailure("cloud-init[9]: 2026-01-01 00:00:00,000 - util.py[DEBUG]: fine"), undefined);
  });

  it("a log read while the report's lines still reach the console: the report so far, not complete; a line being written is not read", () => {
    const serial = recorded("cloud-init-bad-yaml.serial");
    const lines = serial.split("\n");
    const first = lines.findIndex((l) => l.includes("Failed loading yaml blob"));
    // Cut after the report's first line and after each of its 7 continuation lines.
    const cuts = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => lines.slice(0, first + n).join("\n") + "\n");
    const seen = cuts.map((c) => { const f = cloudInitFailure(c)!; return [f.text.split("\n").length, f.complete]; });
    assert.deepStrictEqual(seen, [[1, false], [2, false], [3, false], [4, false], [5, false], [6, false], [7, false], [8, false]]);
    const after = lines.slice(0, first + 9).join("\n") + "\n";
    assert.deepStrictEqual(cloudInitFailure(after), { text: cloudInitFailure(serial)!.text, complete: true });
    // The next record half written is not read yet, so the report may still go on; a report's
    // own first line half written is not read at all.
    assert.strictEqual(cloudInitFailure(lines.slice(0, first + 8).join("\n") + "\n" + lines[first + 8].slice(0, 30))!.complete, false);
    assert.strictEqual(cloudInitFailure(lines.slice(0, first).join("\n") + "\n" + lines[first].slice(0, 120)), undefined);
    const long = ["cloud-init[9]: 2026-01-01 00:00:00,000 - util.py[ERROR]: x", ...Array.from({ length: 20 }, (_, i) => `cloud-init[9]: more ${i}`)].join("\n") + "\n";
    assert.deepStrictEqual(cloudInitFailure(long)!.complete, true);
    assert.strictEqual(cloudInitFailure(long)!.text.split("\n").length, 13);
  });
});

describe("readiness.cloudInit through the guest agent (/run/cloud-init/result.json recorded in the real image)", () => {
  it("no errors: done; errors: quoted; not its JSON (a partial write): wait", () => {
    assert.deepStrictEqual(cloudInitResult(recorded("cloud-init-result-done.json")), { state: "done" });
    const error = cloudInitResult(recorded("cloud-init-result-error.json"));
    assert.strictEqual(error?.state, "error");
    assert.match((error as { text: string }).text, /Runparts: 1 failures \(runcmd\)/);
    assert.strictEqual(cloudInitResult('{"v1": {"datasource": '), undefined);
    assert.strictEqual(cloudInitResult("{}"), undefined);
  });
});
