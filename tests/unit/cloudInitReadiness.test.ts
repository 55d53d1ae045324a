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
    assert.deepStrictEqual(failure.split("\n"), [
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

  it("reads a report without the kernel's time stamp, and with Windows line ends; ignores other processes' lines", () => {
    const text = "cloud-init[9]: 2026-01-01 00:00:00,000 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user\r\n" +
      "cloud-init[9]: still the same message\r\nsystemd[1]: Started foo.\r\n";
    assert.strictEqual(cloudInitFailure(text), "2026-01-01 00:00:00 UTC WARNING: Failed to run module scripts-user\nstill the same message");
    assert.strictEqual(cloudInitFailure("sshd[9]: 2026-01-01 00:00:00,000 - util.py[WARNING]: not cloud-init's"), undefined);
    assert.strictEqual(cloudInitFailure("cloud-init[9]: 2026-01-01 00:00:00,000 - util.py[DEBUG]: fine"), undefined);
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
