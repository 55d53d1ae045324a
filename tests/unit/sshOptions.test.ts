import * as assert from "assert";
import { InvalidArgumentError } from "../../provider/errors";
import { parseSshTarget, validateSshOptions, type SshOptions } from "../../provider/transport/sshOptions";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDn47uefVKtnhLTY8QkWeqpN4ku9WuD+9d9A+bwqkked";
const good: SshOptions = { host: "10.0.0.5", user: "ops", privateKey: "-----BEGIN...", hostKey: KEY };

describe("SSH options validation", () => {
  it("accepts a complete set", () => assert.doesNotThrow(() => validateSshOptions(good)));

  const cases: Array<[string, Partial<SshOptions> & Record<string, unknown>, string, RegExp]> = [
    ["no host", { host: "" }, "host", /required/],
    ["no user", { user: "" }, "user", /required/],
    ["port 0", { port: 0 }, "port", /1 to 65535/],
    ["port 70000", { port: 70000 }, "port", /0 to 65535/],
    ["no credential", { privateKey: undefined }, "privateKey", /privateKey, password or agent/],
    ["no host-key verification", { hostKey: undefined }, "hostKey", /verification is on/],
    ["two verifications", { knownHostsFile: "/x" }, "hostKey", /only one/],
    ["a malformed host key", { hostKey: "nonsense" }, "hostKey", /OpenSSH public key line/],
    ["maxChannels 0", { maxChannels: 0 }, "maxChannels", /at least 1/],
    ["a fractional timeout", { connectTimeoutMs: 1.5 }, "connectTimeoutMs", /integer/],
    ["verification off by the string \"false\" (as config gives it)", { hostKey: undefined, insecureAcceptAnyHostKey: "false" as never }, "insecureAcceptAnyHostKey", /must be true or false, got "false"/],
    ["verification off by 1", { hostKey: undefined, insecureAcceptAnyHostKey: 1 as never }, "insecureAcceptAnyHostKey", /must be true or false, got 1/],
    ["a pinned key beside the string \"true\"", { insecureAcceptAnyHostKey: "true" as never }, "insecureAcceptAnyHostKey", /must be true or false/],
    ["a jump host's verification off by a string", { jumpHosts: [{ host: "j", user: "u", privateKey: "k", insecureAcceptAnyHostKey: "yes" as never }] }, "jumpHosts[0].insecureAcceptAnyHostKey", /true or false/],
    ["a bad jump host", { jumpHosts: [{ host: "j", user: "u", privateKey: "k" }] }, "jumpHosts[0].hostKey", /verification is on/],
  ];
  for (const [label, change, property, reason] of cases) {
    it(`rejects ${label}, naming ${property}`, () => {
      assert.throws(() => validateSshOptions({ ...good, ...change } as SshOptions), (e: InvalidArgumentError) => {
        assert.strictEqual(e.property, property);
        assert.match(e.message, reason);
        return true;
      });
    });
  }
});

describe("parseSshTarget: the one reader of [ssh://][user@]address[:port]", () => {
  const cases: Array<[string, ReturnType<typeof parseSshTarget>]> = [
    ["ssh://ops@10.0.0.5:2222", { user: "ops", host: "10.0.0.5", port: 2222 }],
    ["ops@lab1", { user: "ops", host: "lab1" }],
    ["lab1:22", { host: "lab1", port: 22 }],
    ["ssh://[fd00::5]:22/", { host: "fd00::5", port: 22 }],
    ["user@host:notaport", undefined],
    ["a b", undefined],
    ["ssh://", undefined],
  ];
  for (const [text, expected] of cases) it(JSON.stringify(text), () => assert.deepStrictEqual(parseSshTarget(text), expected));
});
