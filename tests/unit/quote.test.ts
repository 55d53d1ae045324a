import * as assert from "assert";
import { InvalidArgumentError } from "../../provider/errors";
import { psEncodedCommand, psJoin, psQuote, shJoin, shQuote } from "../../provider/transport/quote";

describe("shQuote", () => {
  const cases: Array<[string, string]> = [
    ["plain", "plain"],
    ["/var/lib/vm-1/disk.qcow2", "/var/lib/vm-1/disk.qcow2"],
    ["-daemonize", "-daemonize"],
    ["file=a,,b", "'file=a,,b'"],
    ["", "''"],
    ["two words", "'two words'"],
    ["it's", "'it'\\''s'"],
    ["$(reboot)", "'$(reboot)'"],
    ["`id`", "'`id`'"],
    ["a;b", "'a;b'"],
    ["line\nbreak", "'line\nbreak'"],
    ["*", "'*'"],
    ["~root", "'~root'"],
    ["héllo", "'héllo'"],
  ];
  for (const [input, quoted] of cases) {
    it(`quotes ${JSON.stringify(input)} as ${quoted}`, () => assert.strictEqual(shQuote(input), quoted));
  }
  it("refuses a NUL byte, naming argv", () => {
    assert.throws(() => shQuote("a\0b"), (e: InvalidArgumentError) => e.property === "argv" && /NUL/.test(e.message));
  });
  it("refuses an empty argv", () => assert.throws(() => shJoin([]), /argv: is empty/));
  it("joins an argv with spaces", () => assert.strictEqual(shJoin(["echo", "a b", "c"]), "echo 'a b' c"));
});

describe("psQuote", () => {
  const cases: Array<[string, string]> = [
    ["C:\\Program Files\\qemu\\qemu-img.exe", "'C:\\Program Files\\qemu\\qemu-img.exe'"],
    ["it's", "'it''s'"],
    ["\u2018smart\u2019", "'\u2018\u2018smart\u2019\u2019'"],
    ["$env:PATH", "'$env:PATH'"],
    ["", "''"],
  ];
  for (const [input, quoted] of cases) {
    it(`quotes ${JSON.stringify(input)} as ${quoted}`, () => assert.strictEqual(psQuote(input), quoted));
  }
  it("calls a program with the call operator", () => {
    assert.strictEqual(psJoin(["qemu-img", "info", "a b.qcow2"]), "& 'qemu-img' 'info' 'a b.qcow2'");
  });
  it("encodes a script as base64 of UTF-16LE, the form -EncodedCommand reads", () => {
    const line = psEncodedCommand("Get-Process | ConvertTo-Json");
    assert.strictEqual(line, "powershell -NoProfile -NonInteractive -EncodedCommand " +
      "RwBlAHQALQBQAHIAbwBjAGUAcwBzACAAfAAgAEMAbwBuAHYAZQByAHQAVABvAC0ASgBzAG8AbgA=");
  });
});
