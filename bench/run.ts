/**
 * `npm run bench`: every figure of the benchmark, measured in one run on the test hosts, printed
 * as a table and written to bench/results.json (with --smoke: tiny sizes, to a file you name, to
 * check that the benchmark still works; `npm test` does that).
 */
import { execFileSync } from "child_process";
import { writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { closeAllSshTransports } from "../provider/transport";
import { benchPluginCli } from "./plugin";
import { benchCli, peerAvailability, type CliFigure, type PeerFigure } from "./cli";
import { medianFigure } from "./measure";
import { benchContext, cleanHosts, FULL, placeHaltImage, SMOKE, type BenchSizes } from "./context";
import { benchCreate, type CreateFigures } from "./create";
import { benchPeer } from "./peer";
import { benchFleetBoot, type FleetFigures } from "./fleetBoot";
import { benchRefresh, type RefreshFigure } from "./refresh";
import { benchSnapshotRevert, type SnapshotFigures } from "./snapshotRevert";
import { benchImageBoot, type ImageFigures } from "./imageBoot";
import { benchGuestCommand, type GuestCommandFigures } from "./guestCommand";
import { targetsOf, table } from "./report";

export interface BenchResults {
  date: string;
  machine: Record<string, string | number>;
  sizes: BenchSizes;
  create: CreateFigures;
  refresh: RefreshFigure[];
  cli: CliFigure[];
  /** The same steps through the provider plugin and a YAML program. */
  pluginCli: CliFigure[];
  peer: PeerFigure[];
  fleet: FleetFigures;
  snapshot: SnapshotFigures;
  image: ImageFigures;
  guestCommand: GuestCommandFigures;
  targets: Array<{ target: string; value: number; limit: number; met: boolean }>;
}

function machine(): Record<string, string | number> {
  const qemu = execFileSync("qemu-system-x86_64", ["--version"]).toString().split("\n")[0];
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "", memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version, qemu, accelerator: "tcg" };
}

export async function runBench(sizes: BenchSizes, log: (m: string) => void = console.error): Promise<BenchResults> {
  const ctx = benchContext(sizes, log);
  try {
    const image = await placeHaltImage(ctx);
    log("bench: create overhead");
    const create = await benchCreate(ctx, image);
    log("bench: refresh at scale (in process)");
    const refresh = await benchRefresh(ctx, image);
    const blocked = peerAvailability();
    const ours: CliFigure[][] = [];
    const theirs: CliFigure[][] = [];
    const plugin: CliFigure[][] = [];
    // Ours and the peer's in turn, so that drift of the shared machine hits both alike.
    for (let i = 0; i < sizes.cliRepeats; i++) {
      log(`bench: through the CLI (${i + 1} of ${sizes.cliRepeats})`);
      ours.push(await benchCli(ctx, image));
      plugin.push(await benchPluginCli(ctx, image));
      if (!blocked) theirs.push(await benchPeer(ctx, image));
    }
    const medianAt = (runs: CliFigure[][], vms: number) => medianFigure(runs.map((r) => r.find((f) => f.vms === vms)!));
    const cli = sizes.cliSizes.map((vms) => medianAt(ours, vms));
    const pluginCli = sizes.cliSizes.map((vms) => medianAt(plugin, vms));
    const peer: PeerFigure[] = sizes.cliSizes.map((vms) => ({ vms, ...(blocked ? { blocked } : { figure: medianAt(theirs, vms) }) }));
    log("bench: fleet bring-up");
    const fleet = await benchFleetBoot(ctx);
    log("bench: snapshot revert with memory");
    const snapshot = await benchSnapshotRevert(ctx);
    log("bench: the real image, downloaded and booted");
    const realImage = await benchImageBoot(ctx);
    log("bench: a command in a guest, through its agent and through ssh");
    const guestCommand = await benchGuestCommand(ctx);
    const results = { date: new Date().toISOString(), machine: machine(), sizes, create, refresh, cli, pluginCli, peer, fleet, snapshot, image: realImage, guestCommand, targets: [] as BenchResults["targets"] };
    results.targets = targetsOf(results);
    return results;
  } finally {
    await cleanHosts(ctx).catch((e) => log(`bench: clean-up failed: ${(e as Error).message}`));
    await closeAllSshTransports();
  }
}

async function main(): Promise<void> {
  const smoke = process.argv.includes("--smoke");
  const outAt = process.argv.indexOf("--out");
  const out = outAt > 0 ? process.argv[outAt + 1] : path.resolve(__dirname, "../../bench/results.json");
  const hosts = path.resolve(__dirname, "../../tests/testbed/hosts.sh");
  execFileSync("bash", [hosts, "up"], { stdio: "inherit" });
  try {
    const results = await runBench(smoke ? SMOKE : FULL);
    writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
    console.log(table(results));
    console.log(`written to ${out}`);
  } finally {
    execFileSync("bash", [hosts, "down"], { stdio: "inherit" });
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
