/**
 * Issue 27, allocation: the host's port ledger (provider/scripts/ports-take.sh) on this machine,
 * with a ledger and a range of the test's own: ports bound by anyone are skipped, a live entry
 * is never handed out twice (also to allocations made at the same moment), a stale one is.
 */
import * as assert from "assert";
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "fs";
import * as net from "net";
import { tmpdir } from "os";
import * as path from "path";
import { LocalTransport } from "../../provider/transport";
import { parseKeyValueLines } from "../../provider/keyValues";
import { portsTakeArgv } from "../../provider/vm/ports";
import { firstForwardPort } from "../helpers/ports";

describe("the host's port ledger (this machine, real sockets)", function () {
  this.timeout(60000);
  const t = new LocalTransport();
  const root = mkdtempSync(path.join(tmpdir(), "pq-ledger-"));
  const ledger = path.join(root, "ledger");
  const holder = (name: string) => { const d = path.join(root, name); mkdirSync(d, { recursive: true }); return d; };
  after(() => rmSync(root, { recursive: true, force: true }));

  const take = async (who: string, range: { lo: number; hi: number }, protocols = ["tcp"]) => {
    const r = await t.exec(portsTakeArgv(who, protocols, ledger, range));
    return { ports: (parseKeyValueLines(r.stdout).get("port") ?? []).map(Number), code: r.exitCode, stderr: r.stderr };
  };

  it("skips a port another program has bound, records the one it gives, and never gives it twice while its holder lives", async () => {
    const lo = firstForwardPort(4);
    const server = net.createServer().listen(lo, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const a = await take(holder("a"), { lo, hi: lo + 1 });
      assert.deepStrictEqual(a.ports, [lo + 1], `the bound port ${lo} was given: ${a.stderr}`);
      const b = await take(holder("b"), { lo, hi: lo + 1 });
      assert.deepStrictEqual(b.ports, [], "a port held in the ledger was given again");
      assert.notStrictEqual(b.code, 0);
      assert.match(b.stderr, new RegExp(`no free tcp port in ${lo}-${lo + 1} on this host`));
      // udp is its own space: the same number is free there.
      assert.strictEqual((await take(holder("c"), { lo: lo + 1, hi: lo + 1 }, ["udp"])).ports[0], lo + 1);
    } finally {
      server.close();
    }
  });

  it("an entry whose holder is gone is stale after ten minutes, and given again", async () => {
    const lo = firstForwardPort(4);
    const gone = path.join(root, "gone");
    writeFileSync(path.join(ledger, "ports", `tcp-${lo}`), `${gone}\n`);
    assert.deepStrictEqual((await take(holder("d"), { lo, hi: lo })).ports, [], "an entry minutes old (a create in progress) was given");
    const old = new Date(Date.now() - 11 * 60 * 1000);
    utimesSync(path.join(ledger, "ports", `tcp-${lo}`), old, old);
    assert.deepStrictEqual((await take(holder("d"), { lo, hi: lo })).ports, [lo]);
  });

  it("allocations at the same moment get different ports (the ledger's lock)", async () => {
    const lo = firstForwardPort(40);
    const range = { lo, hi: lo + 39 };
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => take(holder(`p${i}`), range, ["tcp", "tcp"])));
    const ports = all.flatMap((x) => x.ports);
    assert.strictEqual(ports.length, 16, all.map((x) => x.stderr).join(""));
    assert.strictEqual(new Set(ports).size, 16, `a port was given twice: ${ports.join(" ")}`);
  });
});
