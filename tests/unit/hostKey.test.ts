import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { InvalidArgumentError } from "../../provider/errors";
import { knownHostsKeys, parsePinnedKey } from "../../provider/transport/hostKey";

describe("host keys", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-hostkey-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const keys: Record<string, { line: string; fp: string }> = {};
  before(() => {
    for (const type of ["ed25519", "ecdsa", "rsa"]) {
      const file = path.join(dir, type);
      execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", file]);
      const line = readFileSync(`${file}.pub`, "utf8").trim();
      const fp = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`]).toString().split(" ")[1];
      keys[type] = { line, fp };
    }
  });

  it("computes the same fingerprint as ssh-keygen -l for each key type", () => {
    for (const { line, fp } of Object.values(keys)) {
      assert.strictEqual(parsePinnedKey(line).fingerprint, fp);
    }
  });

  it("accepts a bare SHA256 fingerprint", () => {
    assert.deepStrictEqual(parsePinnedKey(keys.ed25519.fp), { fingerprint: keys.ed25519.fp });
  });

  for (const bad of ["", "ssh-ed25519", "ssh-ed25519 AAAA", "SHA256:short", "ssh-rsa " + Buffer.from("xxxxssh-ed25519").toString("base64")]) {
    it(`rejects ${JSON.stringify(bad)} naming the property`, () => {
      assert.throws(() => parsePinnedKey(bad, "jumpHosts[0].hostKey"),
        (e: InvalidArgumentError) => e.property === "jumpHosts[0].hostKey" && /OpenSSH public key line/.test(e.message));
    });
  }

  describe("known_hosts", () => {
    it("matches plain, bracketed-port, wildcard and negated entries", () => {
      const text = [
        "# comment",
        `10.0.0.5,lab1 ${keys.ed25519.line}`,
        `[10.0.0.5]:2222 ${keys.rsa.line}`,
        `10.0.0.* ${keys.ecdsa.line}`,
        `!10.0.0.9,10.0.0.? ${keys.rsa.line}`,
      ].join("\n");
      assert.deepStrictEqual(knownHostsKeys(text, "10.0.0.5", 22).accepted.map((k) => k.fingerprint),
        [keys.ed25519.fp, keys.ecdsa.fp, keys.rsa.fp]);
      assert.deepStrictEqual(knownHostsKeys(text, "10.0.0.5", 2222).accepted.map((k) => k.fingerprint), [keys.rsa.fp]);
      assert.deepStrictEqual(knownHostsKeys(text, "10.0.0.9", 22).accepted.map((k) => k.fingerprint), [keys.ecdsa.fp]);
      assert.deepStrictEqual(knownHostsKeys(text, "192.168.1.1", 22).accepted, []);
    });

    it("matches entries hashed by ssh-keygen -H, and only for their host", () => {
      const file = path.join(dir, "known_hosts");
      writeFileSync(file, `lab1 ${keys.ed25519.line}\n[lab2]:2200 ${keys.rsa.line}\n`);
      execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
      const text = readFileSync(file, "utf8");
      assert.ok(!text.includes("lab1"));
      assert.deepStrictEqual(knownHostsKeys(text, "lab1", 22).accepted.map((k) => k.fingerprint), [keys.ed25519.fp]);
      assert.deepStrictEqual(knownHostsKeys(text, "lab2", 2200).accepted.map((k) => k.fingerprint), [keys.rsa.fp]);
      assert.deepStrictEqual(knownHostsKeys(text, "lab2", 22).accepted, []);
    });

    it("reports @revoked keys apart and ignores @cert-authority lines", () => {
      const text = `@revoked lab1 ${keys.rsa.line}\n@cert-authority lab1 ${keys.ecdsa.line}\nlab1 ${keys.ed25519.line}\n`;
      const { accepted, revoked } = knownHostsKeys(text, "lab1", 22);
      assert.deepStrictEqual(accepted.map((k) => k.fingerprint), [keys.ed25519.fp]);
      assert.deepStrictEqual(revoked, [keys.rsa.fp]);
    });
  });
});
