/** Secret objects in extraArgs read their value from a private file, not QEMU's command line (secretObjects.ts). */
import * as assert from "assert";
import { secretsToFiles, splitOptions } from "../../provider/qemu/secretObjects";

describe("secret objects to files", () => {
  const cases: Array<[string, string[], string[], Array<{ path: string; data: string }>]> = [
    ["data= becomes file=", ["-object", "secret,id=s0,data=hunter2"], ["-object", "secret,id=s0,file=/w/vms/v/secret-0"], [{ path: "/w/vms/v/secret-0", data: "hunter2" }]],
    ["a doubled comma in the value stays the value's comma", ["-object", "secret,data=a,,b,id=s1,format=raw"], ["-object", "secret,file=/w/vms/v/secret-0,id=s1,format=raw"], [{ path: "/w/vms/v/secret-0", data: "a,b" }]],
    ["two secrets, two files", ["-object", "secret,id=a,data=1", "-object", "secret,id=b,data=2"], ["-object", "secret,id=a,file=/w/vms/v/secret-0", "-object", "secret,id=b,file=/w/vms/v/secret-1"],
      [{ path: "/w/vms/v/secret-0", data: "1" }, { path: "/w/vms/v/secret-1", data: "2" }]],
    ["a secret from a file already: left alone", ["-object", "secret,id=s0,file=/etc/key"], ["-object", "secret,id=s0,file=/etc/key"], []],
    ["another object: left alone", ["-object", "rng-random,id=r0,filename=/dev/urandom"], ["-object", "rng-random,id=r0,filename=/dev/urandom"], []],
    ["data= not after -object: left alone", ["-device", "secret,data=x"], ["-device", "secret,data=x"], []],
  ];
  for (const [what, args, expected, files] of cases) {
    it(what, () => assert.deepStrictEqual(secretsToFiles(args, "/w/vms/v"), { args: expected, files }));
  }
  it("a state directory with a comma is escaped in the option", () => {
    assert.deepStrictEqual(secretsToFiles(["-object", "secret,id=s,data=x"], "/a,b").args[1], "secret,id=s,file=/a,,b/secret-0");
    assert.deepStrictEqual(splitOptions("secret,id=s,file=/a,,b/secret-0"), ["secret", "id=s", "file=/a,b/secret-0"]);
  });
});
