/**
 * A command in a test guest as root, over its forwarded SSH port, on a connection of its own that
 * is closed after it. The guests are throwaway, made fresh by each test: their host keys are not pinned.
 *
 * Up to a dozen TCG guests share this machine's 2 cores with the engine and the test hosts. In
 * one CI run a guest did not finish the SSH handshake within 20 s (the fleet-network e2e, right
 * after a revert); seven runs of that test and one of the whole e2e suite here did not show it
 * again. A connection that times out is tried again until `patienceMs`, and each retry is printed
 * with what the port does meanwhile (accepts, sends its banner or not), so that a slow guest shows
 * in the log and a dead one still fails the test. Only the connection is retried.
 */
import { connect } from "net";
import { TransportError } from "../../provider/errors";
import { sshTransport, type ExecResult } from "../../provider/transport";

export async function guestExec(g: { host: string; port: number; user?: string }, privateKey: string, argv: string[], patienceMs = 90000): Promise<ExecResult> {
  const t0 = Date.now();
  for (let attempt = 1; ; attempt++) {
    const t = sshTransport({ host: g.host, port: g.port, user: g.user ?? "root", privateKey, insecureAcceptAnyHostKey: true, connectTimeoutMs: 20000 });
    try {
      const result = await t.exec(argv);
      if (attempt > 1) console.log(`      guest ${g.host}:${g.port} answered SSH at attempt ${attempt}, ${Date.now() - t0} ms after the first`);
      return result;
    } catch (e) {
      // A connection that never became ready ran nothing: trying again cannot run the command twice.
      if (!(e instanceof TransportError && e.code === "CONNECT_TIMEOUT") || Date.now() - t0 > patienceMs) throw e;
      console.log(`      guest ${g.host}:${g.port}: ${e.message} (attempt ${attempt}); the port now: ${await bannerSeen(g)}; trying again`);
    } finally {
      await t.close();
    }
  }
}

/** What a plain TCP connection to the port sees in 10 s: refused, silent, or the SSH banner. */
function bannerSeen(g: { host: string; port: number }): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(g.port, g.host);
    const done = (what: string) => { clearTimeout(timer); s.destroy(); resolve(what); };
    const timer = setTimeout(() => done("accepts, but no banner within 10 s"), 10000);
    s.once("data", (d) => done(`sends ${JSON.stringify(d.toString("latin1").slice(0, 40))}`));
    s.once("error", (e) => done(`connection error: ${e.message}`));
    s.once("close", () => done("accepts, then closes without a banner"));
  });
}
