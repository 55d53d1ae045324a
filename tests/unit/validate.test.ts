import * as assert from "assert";
import { InvalidArgumentError } from "../../provider/errors";
import { absolutePath, safeName, sizeBytes } from "../../provider/validate";

describe("validation of values that reach the host", () => {
  const G = 2 ** 30;
  for (const [input, bytes] of [["10G", 10 * G], ["512M", 512 * 2 ** 20], ["1.5G", 1.5 * G], ["2GiB", 2 * G], ["4k", 4096], [1048576, 1048576], ["100", 100]] as const) {
    it(`size ${JSON.stringify(input)} is ${bytes} bytes`, () => assert.strictEqual(sizeBytes(input, "size"), bytes));
  }
  for (const bad of ["-1G", "0", "ten", "", "1X", "1e3", -5, 0, 1.5, null, "9999999999T"]) {
    it(`size ${JSON.stringify(bad)} is refused, naming the property`, () =>
      assert.throws(() => sizeBytes(bad, "size"), (e: InvalidArgumentError) => e.property === "size" && /positive size/.test(e.reason)));
  }
  for (const good of ["web", "vm-1", "a.b_c", "X"]) {
    it(`name ${good} is accepted`, () => assert.strictEqual(safeName(good, "name"), good));
  }
  for (const bad of ["", "-rf", ".hidden", "a/b", "a b", "a;b", "$(id)", "a..b", "x".repeat(64), "é", "a\nb"]) {
    it(`name ${JSON.stringify(bad)} is refused`, () => assert.throws(() => safeName(bad, "name"), /name: must be 1-63 characters/));
  }
  for (const bad of ["relative/dir", "/a/../etc", "/a\nb", "", "~/x"]) {
    it(`path ${JSON.stringify(bad)} is refused`, () => assert.throws(() => absolutePath(bad, "workDir"), /^InvalidArgumentError: workDir: |workDir: /));
  }
  it("an absolute path with spaces and quotes is accepted (it is quoted at the edge)", () =>
    assert.strictEqual(absolutePath("/srv/vm's dir", "workDir"), "/srv/vm's dir"));
});
