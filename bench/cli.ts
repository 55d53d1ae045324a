/**
 * 3 and 5. Through the real CLI: `pulumi up` and `pulumi preview --refresh` of stacks of minimal
 * VMs spread over the hosts, with the SSH connections and channels the engine's provider process
 * opened (it writes them to PULUMI_QEMU_STATS_DIR) and that process's peak RSS during the refresh.
 * The peer (@pulumi/command's remote.Command starting the same QEMU commands) runs only where its
 * plugin is installed.
 */
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import * as path from "path";
import { Vm } from "../sdk/vm";
import { haltingVm } from "../tests/helpers/haltingGuest";
import { engineEnv, pulumiBinDir, REPO } from "../tests/e2e/engine";
import type { TestHost } from "../tests/testbed/testbed";
import { connectionTo, type BenchContext } from "./context";
import { round, timed, watchPeakRss } from "./measure";

export interface CliFigure {
  vms: number;
  upMs: number;
  /** preview without refresh of the steady stack. */
  previewMs: number;
  destroyMs: number;
  upConnections: number;
  upChannels: number;
  previewRefreshMs: number;
  refreshConnections: number;
  refreshChannels: number;
  /** Peak RSS of the dynamic provider process during preview --refresh, MiB. */
  providerPeakRssMiB: number;
  /** In the up: how long after its start the provider process got the engine's first call (its start cost). */
  providerStartMs: number;
}

/** The peer's figures at one size (connection counts and RSS are not measured for it: 0), or why it did not run. */
export interface PeerFigure { vms: number; figure?: CliFigure; blocked?: string }

interface ProviderStats { connections: number; channels: number; firstCallAfterStartMs?: number }

/** The counters of every provider process of one step, summed; the slowest start among them. */
function readStats(dir: string): Required<ProviderStats> {
  const sum = { connections: 0, channels: 0, firstCallAfterStartMs: 0 };
  for (const f of readdirSync(dir)) {
    const s = JSON.parse(readFileSync(path.join(dir, f), "utf8")) as ProviderStats;
    sum.connections += s.connections;
    sum.channels += s.channels;
    sum.firstCallAfterStartMs = Math.max(sum.firstCallAfterStartMs, s.firstCallAfterStartMs ?? 0);
  }
  return sum;
}

export async function stackFor(ctx: BenchContext, dir: string, project: string, program: () => Promise<Record<string, unknown>>, statsDir: string): Promise<Stack> {
  const state = path.join(dir, "state");
  mkdirSync(state, { recursive: true });
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(pulumiBinDir()) });
  return LocalWorkspace.createOrSelectStack({ stackName: "bench", projectName: project, program }, {
    workDir: dir, pulumiCommand, envVars: { ...engineEnv(state), PULUMI_QEMU_STATS_DIR: statsDir },
    projectSettings: { name: project, runtime: "nodejs", backend: { url: `file://${state}` } },
  });
}

/** The four steps of one stack through the CLI; `up` says how many resources it created. */
export interface CliSteps {
  up(): Promise<number>;
  preview(): Promise<unknown>;
  /** Fails when the steady stack shows changes. */
  previewRefresh(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Up, preview, preview --refresh and destroy of a stack of `n` VMs, timed, with the provider
 * process's counters of the up and of the refresh (in `statsDir`) and its peak RSS during the
 * refresh (the processes whose command line holds `rssMarker`).
 */
export async function measureCliSteps(n: number, statsDir: string, rssMarker: string, steps: CliSteps): Promise<CliFigure> {
  freshStatsDir(statsDir);
  const up = await timed(steps.up);
  if (up.value !== n + 1) throw new Error(`up of ${n} VMs created ${up.value} resources, not ${n + 1}`);
  const upStats = readStats(statsDir);
  freshStatsDir(statsDir);
  const preview = await timed(steps.preview);
  const rss = watchPeakRss(rssMarker);
  const refresh = await timed(steps.previewRefresh);
  const peakKiB = rss.stop();
  const refreshStats = readStats(statsDir);
  const destroy = await timed(steps.destroy);
  return {
    vms: n, upMs: round(up.ms), previewMs: round(preview.ms), destroyMs: round(destroy.ms), upConnections: upStats.connections, upChannels: upStats.channels,
    providerStartMs: upStats.firstCallAfterStartMs,
    previewRefreshMs: round(refresh.ms), refreshConnections: refreshStats.connections, refreshChannels: refreshStats.channels,
    providerPeakRssMiB: round(peakKiB / 1024),
  };
}

/** A fresh, empty directory for the provider process's counters of one step. */
export function freshStatsDir(statsDir: string): string {
  rmSync(statsDir, { recursive: true, force: true });
  mkdirSync(statsDir, { recursive: true });
  return statsDir;
}

/** A new directory for one stack of the CLI section (its state, its counters), under .cache/bench. */
export function scratchDir(prefix: string): string {
  const root = path.join(REPO, ".cache/bench");
  mkdirSync(root, { recursive: true });
  return mkdtempSync(path.join(root, prefix));
}

export async function benchCli(ctx: BenchContext, image: (h: TestHost) => string): Promise<CliFigure[]> {
  const figures: CliFigure[] = [];
  for (const n of ctx.sizes.cliSizes) {
    const dir = scratchDir(`vms${n}-`);
    const statsDir = path.join(dir, "stats");
    const program = async () => {
      const vms = Array.from({ length: n }, (_, i) => {
        const h = ctx.hosts[i % ctx.hosts.length];
        const { host, ...rest } = haltingVm(connectionTo(ctx, h), `cli${n}-${i}`, image(h));
        return new Vm(`cli${n}-${i}`, { ...rest, host: pulumi.secret(host) });
      });
      return { pids: vms.map((v) => v.pid) };
    };
    const stack = await stackFor(ctx, dir, `bench-vms${n}`, program, freshStatsDir(statsDir));
    let destroyed = false;
    try {
      figures.push(await measureCliSteps(n, statsDir, "cmd/dynamic-provider", {
        up: async () => (await stack.up({ parallel: 64 })).summary.resourceChanges?.create ?? 0,
        preview: () => stack.preview({ parallel: 64 }),
        previewRefresh: async () => {
          const changes = (await stack.preview({ refresh: true, parallel: 64 })).changeSummary;
          if (Object.keys(changes).some((k) => k !== "same")) throw new Error(`preview --refresh of a steady ${n}-VM stack shows changes: ${JSON.stringify(changes)}`);
        },
        destroy: async () => { await stack.destroy({ parallel: 64 }); destroyed = true; },
      }));
      ctx.log(`cli ${n}: ${JSON.stringify(figures[figures.length - 1])}`);
    } finally {
      if (!destroyed) await stack.destroy({ parallel: 64 });
      await stack.workspace.removeStack("bench");
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return figures;
}

/** Whether the CLI has the command provider's plugin (it comes from GitHub, unreachable here). */
export function peerAvailability(): string | undefined {
  const env = { ...process.env, ...engineEnv("/tmp") };
  const plugins = execFileSync("pulumi", ["plugin", "ls", "--json"], { env }).toString();
  const found = (JSON.parse(plugins || "[]") as Array<{ name: string; kind: string }>).some((p) => p.name === "command" && p.kind === "resource");
  return found ? undefined : "the pulumi-resource-command plugin is not installed: the Go module proxy answers 403 for github.com/pulumi/pulumi-command/provider and @pulumi/command's installer downloads from GitHub; " +
    "build it by hand from a fetched pulumi/pulumi-command (see ../shared/TESTBED.md) and `pulumi plugin install resource command v1.2.1 --file BINARY` with this CLI's PULUMI_HOME";
}
