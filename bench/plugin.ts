/**
 * The CLI section again through the provider plugin (issue 34): the same minimal VMs on the same
 * hosts, declared in a YAML program (`qemu:index:Vm`), run by the pinned CLI and the YAML language
 * host. Beside benchCli's dynamic-SDK rows: what a user of another language pays.
 */
import { execFile, execFileSync } from "child_process";
import { promisify } from "util";
import { mkdirSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { haltingVm } from "../tests/helpers/haltingGuest";
import { engineEnv, REPO } from "../tests/e2e/engine";
import type { TestHost } from "../tests/testbed/testbed";
import { measureCliSteps, scratchDir, type CliFigure } from "./cli";
import { connectionTo, type BenchContext } from "./context";

/** A YAML program (written as JSON, which YAML reads) of `n` halting VMs spread over the hosts. */
export function pluginProgram(ctx: BenchContext, n: number, image: (h: TestHost) => string): object {
  const resources = Object.fromEntries(Array.from({ length: n }, (_, i) => {
    const h = ctx.hosts[i % ctx.hosts.length];
    const { host, ...rest } = haltingVm(connectionTo(ctx, h), `plugin${n}-${i}`, image(h));
    return [`plugin${n}-${i}`, { type: "qemu:index:Vm", properties: { ...rest, host: { "fn::secret": host } } }];
  }));
  return { name: `bench-plugin${n}`, runtime: "yaml", plugins: { providers: [{ name: "qemu", path: path.join(REPO, "plugin") }] }, resources };
}

export async function benchPluginCli(ctx: BenchContext, image: (h: TestHost) => string): Promise<CliFigure[]> {
  execFileSync("bash", [path.join(REPO, "tests/testbed/pulumi-yaml.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  const figures: CliFigure[] = [];
  for (const n of ctx.sizes.cliSizes) {
    const dir = scratchDir(`plugin${n}-`);
    const [state, statsDir] = ["state", "stats"].map((d) => path.join(dir, d));
    mkdirSync(state);
    writeFileSync(path.join(dir, "Pulumi.yaml"), JSON.stringify(pluginProgram(ctx, n, image)));
    const env = { ...process.env, ...engineEnv(state), PULUMI_QEMU_STATS_DIR: statsDir };
    // Not a sync call: the RSS sampler runs on this process's event loop.
    const pulumi = async (...args: string[]) => (await promisify(execFile)("pulumi", [...args, "--non-interactive", "--parallel", "64"], { cwd: dir, env, maxBuffer: 64 << 20 })).stdout;
    execFileSync("pulumi", ["stack", "init", "bench", "--non-interactive"], { cwd: dir, env, stdio: "ignore" });
    let destroyed = false;
    try {
      figures.push(await measureCliSteps(n, statsDir, "sdk/plugin/main.js", {
        up: async () => Number(/\+ (\d+) created/.exec(await pulumi("up", "--yes"))?.[1] ?? 0),
        preview: () => pulumi("preview"),
        previewRefresh: async () => { await pulumi("preview", "--refresh", "--expect-no-changes"); },
        destroy: async () => { await pulumi("destroy", "--yes"); destroyed = true; },
      }));
      ctx.log(`plugin ${n}: ${JSON.stringify(figures[figures.length - 1])}`);
    } finally {
      if (!destroyed) await pulumi("destroy", "--yes").catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return figures;
}
