/**
 * 1. Create overhead: the package creating a minimal VM vs the identical QEMU argv run over SSH,
 * on a fresh connection (the `ssh` command, as a script or @pulumi/command would) and on an
 * already-open one (the physical limit: one QEMU start plus one round trip). Interleaved per
 * repeat, so drift of the shared machine hits all three alike.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { expectSuccess } from "../provider/errors";
import { qemuArgv } from "../provider/vm/argv";
import * as vm from "../provider/resources/vm";
import { shJoin, sshTransport } from "../provider/transport";
import { vmLayout } from "../provider/layout";
import { vmSpec } from "../provider/vm/spec";
import { haltingVm } from "../tests/helpers/haltingGuest";
import { sshOptionsFor, testbed } from "../tests/testbed/testbed";
import { connectionTo, type BenchContext } from "./context";
import { median, round, timed } from "./measure";

export interface CreateFigures {
  providerMs: number;
  openConnectionMs: number;
  freshConnectionMs: number;
  /** provider / open-connection baseline (target <= 1.2). */
  providerOverOpen: number;
  providerOverFresh: number;
}

export async function benchCreate(ctx: BenchContext, image: (h: typeof ctx.hosts[0]) => string): Promise<CreateFigures> {
  const h = ctx.hosts[0];
  const conn = connectionTo(ctx, h);
  const t = sshTransport(sshOptionsFor(h));
  const keys = mkdtempSync(path.join(tmpdir(), "pulumi-qemu-bench-"));
  writeFileSync(path.join(keys, "known_hosts"), `${h.address} ${h.hostKey}\n`);
  const ssh = ["-i", testbed().clientKey, "-p", String(h.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${path.join(keys, "known_hosts")}`, `${testbed().rootUser}@${h.address}`];
  const baselineArgv = (name: string) => {
    const layout = vmLayout(conn.workDir, name);
    return { layout, argv: qemuArgv(vmSpec(haltingVm(conn, name, image(h))).spec, { qemuBinary: "qemu-system-x86_64", accelerators: ["tcg"], layout }) };
  };
  const stopBaseline = (dir: string) => t.exec(["sh", "-c", 'kill -9 "$(cat "$1/qemu.pid")"; rm -rf -- "$1"', "stop", dir]);
  const provider: number[] = [], open: number[] = [], fresh: number[] = [];
  try {
    // Warm-up (untimed): the pooled connection is open, as it is for every resource after the first.
    const warm = await vm.create(haltingVm(conn, "create-warm", image(h)));
    await vm.remove(warm.id, warm.outs);
    for (let i = 0; i < ctx.sizes.repeats; i++) {
      const made = await timed(() => vm.create(haltingVm(conn, `create-${i}`, image(h))));
      provider.push(made.ms);
      await vm.remove(made.value.id, made.value.outs);

      const o = baselineArgv(`open-${i}`);
      await t.exec(["mkdir", "-p", o.layout.dir]);
      open.push((await timed(async () => expectSuccess("baseline", o.argv, await t.exec(o.argv)))).ms);
      await stopBaseline(o.layout.dir);

      const f = baselineArgv(`fresh-${i}`);
      await t.exec(["mkdir", "-p", f.layout.dir]);
      fresh.push((await timed(async () => execFileSync("ssh", [...ssh, shJoin(f.argv)], { stdio: "pipe" }))).ms);
      await stopBaseline(f.layout.dir);
    }
  } finally {
    rmSync(keys, { recursive: true, force: true });
  }
  ctx.log(`create: provider ${provider.map((x) => round(x)).join(" ")} ms; open ${open.map((x) => round(x)).join(" ")}; fresh ${fresh.map((x) => round(x)).join(" ")}`);
  const [p, o, f] = [median(provider), median(open), median(fresh)];
  return { providerMs: round(p), openConnectionMs: round(o), freshConnectionMs: round(f), providerOverOpen: round(p / o, 2), providerOverFresh: round(p / f, 2) };
}

