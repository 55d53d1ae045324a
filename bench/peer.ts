/**
 * The peer a user would write instead of this package: @pulumi/command's remote.Command
 * starting the same QEMU argv over SSH (-daemonize, a pidfile), deleted by `kill`. Run through
 * the same CLI, on the same hosts and sizes as benchCli; only where the command provider's
 * plugin is installed (peerAvailability says why not elsewhere).
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { rmSync } from "fs";
import * as path from "path";
import { shJoin } from "../provider/transport";
import { vmLayout } from "../provider/layout";
import { qemuArgv } from "../provider/vm/argv";
import { vmSpec } from "../provider/vm/spec";
import { haltingVm } from "../tests/helpers/haltingGuest";
import { sshOptionsFor, type TestHost } from "../tests/testbed/testbed";
import type { CliFigure } from "./cli";
import { scratchDir, stackFor } from "./cli";
import { benchDir, connectionTo, type BenchContext } from "./context";
import { round, timed } from "./measure";

/** The create and delete commands of one peer VM: the argv this package would run for it, daemonized. */
export function peerCommands(ctx: BenchContext, h: TestHost, name: string, image: string): { create: string; delete: string } {
  const inputs = haltingVm(connectionTo(ctx, h), name, image);
  const layout = vmLayout(benchDir(ctx, h), name);
  const argv = qemuArgv(vmSpec(inputs).spec, { qemuBinary: "qemu-system-x86_64", accelerators: ["tcg"], layout, platform: "posix" });
  return {
    create: `mkdir -p ${shJoin([layout.dir])} && ${shJoin(argv)}`,
    delete: `kill "$(cat ${shJoin([layout.pidfile])})"; rm -rf -- ${shJoin([layout.dir])}`,
  };
}

export async function benchPeer(ctx: BenchContext, image: (h: TestHost) => string): Promise<CliFigure[]> {
  const figures: CliFigure[] = [];
  for (const n of ctx.sizes.cliSizes) {
    const dir = scratchDir(`peer${n}-`);
    const program = async () => {
      const cmds = Array.from({ length: n }, (_, i) => {
        const h = ctx.hosts[i % ctx.hosts.length];
        const name = `peer${n}-${i}`;
        const ssh = sshOptionsFor(h);
        const { create, delete: del } = peerCommands(ctx, h, name, image(h));
        return new remote.Command(name, {
          connection: { host: ssh.host, port: ssh.port ?? 22, user: ssh.user, privateKey: pulumi.secret(ssh.privateKey ?? "") },
          create, delete: del,
        });
      });
      return { ids: cmds.map((c) => c.id) };
    };
    const stack = await stackFor(ctx, dir, `bench-peer${n}`, program, path.join(dir, "stats"));
    let destroyed = false;
    try {
      const up = await timed(() => stack.up({ parallel: 64 }));
      const created = up.value.summary.resourceChanges?.create ?? 0;
      if (created !== n + 1) throw new Error(`peer up of ${n} commands created ${created} resources, not ${n + 1}`);
      const preview = await timed(() => stack.preview({ parallel: 64 }));
      const refresh = await timed(() => stack.preview({ refresh: true, parallel: 64 }));
      const destroy = await timed(() => stack.destroy({ parallel: 64 }));
      destroyed = true;
      figures.push({ vms: n, upMs: round(up.ms), previewMs: round(preview.ms), previewRefreshMs: round(refresh.ms), destroyMs: round(destroy.ms),
        upConnections: 0, upChannels: 0, refreshConnections: 0, refreshChannels: 0, providerPeakRssMiB: 0, providerStartMs: 0 });
      ctx.log(`peer ${n}: ${JSON.stringify(figures[figures.length - 1])}`);
    } finally {
      if (!destroyed) await stack.destroy({ parallel: 64 }).catch(() => undefined);
      await stack.workspace.removeStack("bench");
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return figures;
}
