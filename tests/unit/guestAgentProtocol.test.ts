/** The guest agent's wire format (pure): answers split after the sync's 0xFF, interfaces shaped for outputs, bad inputs refused. */
import * as assert from "assert";
import { splitAgentReplies } from "../../provider/qemu/qga";
import { guestInterfaces } from "../../provider/vm/guestAgent";
import { vmSpec } from "../../provider/vm/spec";
import * as guestCommand from "../../provider/resources/guestCommand";
import * as guestFile from "../../provider/resources/guestFile";

const b = (s: string | number[]) => (typeof s === "string" ? Buffer.from(s, "latin1") : Buffer.from(s));

describe("guest agent: answers split after the sync's delimiter", () => {
  const cases: Array<[string, Buffer, boolean, string[], string, boolean]> = [
    ["before the delimiter everything is dropped (the agent's complaint about it, an earlier client's answer)",
      Buffer.concat([b('{"error": {"class": "GenericError", "desc": "stray"}}\n{"return": 1}\n'), b([0xff]), b('{"return": 42}\n')]), true, ['{"return": 42}'], "", false],
    ["no delimiter yet: nothing, and still waiting", b('{"return": {}}\n'), true, [], "", true],
    ["after the sync: lines as they come, a partial one kept", b('{"return": {}}\n{"return": [1,'), false, ['{"return": {}}'], '{"return": [1,', false],
    ["blank lines skipped", b('\n\n{"return": 3}\n'), false, ['{"return": 3}'], "", false],
  ];
  for (const [what, input, awaiting, lines, rest, still] of cases) {
    it(what, () => {
      const r = splitAgentReplies(input, awaiting);
      assert.deepStrictEqual({ lines: r.lines, rest: r.rest.toString("latin1"), awaiting: r.awaitingDelimiter }, { lines, rest, awaiting: still });
    });
  }
});

describe("guest agent: interfaces as Vm outputs", () => {
  it("drops the loopback, keeps MAC and ADDRESS/PREFIX of both families", () => {
    assert.deepStrictEqual(guestInterfaces([
      { name: "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [{ "ip-address": "127.0.0.1", prefix: 8 }] },
      { name: "eth0", "hardware-address": "52:54:0a:4d:00:0a", "ip-addresses": [{ "ip-address": "10.77.0.10", prefix: 24 }, { "ip-address": "fe80::1", prefix: 64 }] },
      { name: "eth1" },
    ]), [
      { name: "eth0", mac: "52:54:0a:4d:00:0a", addresses: ["10.77.0.10/24", "fe80::1/64"] },
      { name: "eth1", addresses: [] },
    ]);
  });
});

describe("guest agent: bad input is refused, naming the property", () => {
  const target = { host: { kind: "local" as const, workDir: "/w" }, stateDir: "/w/vms/db.ab12", vm: "db.ab12" };
  const failures = async (check: () => Promise<{ failures?: Array<{ property: string }> }>) => (await check()).failures?.map((f) => f.property) ?? [];
  it("Vm: readiness.guestAgent without the channel; extraArgs that name its chardev", () => {
    const props = (i: object) => vmSpec({ host: target.host, name: "db", ...i }).errors.map((e) => e.property);
    assert.deepStrictEqual(props({ readiness: { guestAgent: true } }), ["readiness.guestAgent"]);
    assert.deepStrictEqual(props({ guestAgent: true, readiness: { guestAgent: true } }), []);
    assert.deepStrictEqual(props({ guestAgent: "yes" }), ["guestAgent"]);
    assert.deepStrictEqual(props({ guestAgent: true, extraArgs: ["-device", "virtserialport,chardev=pq-qga,name=x"] }), ["extraArgs[1]"]);
  });
  it("GuestCommand: empty command, a bad variable name, a bad timeout, a relative shell, a state directory that is not a VM's", async () => {
    assert.deepStrictEqual(await failures(() => guestCommand.check({}, { ...target, create: "" })), ["create"]);
    assert.deepStrictEqual(await failures(() => guestCommand.check({}, { ...target, create: [] })), ["create"]);
    assert.deepStrictEqual(await failures(() => guestCommand.check({}, { ...target, create: "true", environment: { "A-B": "1" } })), ["environment.A-B"]);
    assert.deepStrictEqual(await failures(() => guestCommand.check({}, { ...target, create: "true", timeout: "soon" })), ["timeout"]);
    assert.deepStrictEqual(await failures(() => guestCommand.check({}, { ...target, create: "true", shell: "bash" })), ["shell"]);
    assert.deepStrictEqual(await failures(() => guestCommand.check({}, { ...target, stateDir: "/w/disks", create: "true" })), ["vm"]);
  });
  it("GuestFile: relative path, both content and source, a bad mode or owner, an unreadable source", async () => {
    assert.deepStrictEqual(await failures(() => guestFile.check({}, { ...target, path: "etc/x", content: "a" })), ["path"]);
    assert.deepStrictEqual(await failures(() => guestFile.check({}, { ...target, path: "/etc/x", content: "a", source: "/tmp/a" })), ["content"]);
    assert.deepStrictEqual(await failures(() => guestFile.check({}, { ...target, path: "/etc/x", content: "a", mode: "rw" })), ["mode"]);
    assert.deepStrictEqual(await failures(() => guestFile.check({}, { ...target, path: "/etc/x", content: "a", owner: "root;rm" })), ["owner"]);
    assert.deepStrictEqual(await failures(() => guestFile.check({}, { ...target, path: "/etc/x", source: "/nonexistent/pq-file" })), ["source"]);
  });
});
