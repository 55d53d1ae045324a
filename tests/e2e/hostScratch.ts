/**
 * A test's own scratch: a run id, a local temporary directory and a working directory on each
 * test host named `e2e-<tag>-<run>`. Registers mocha's `after` to leave nothing once the suite
 * ends, passed or failed: `first` (a mirror to stop), then every QEMU under those working
 * directories, the directories themselves (over SSH: a host's files are its own), the local one.
 */
import { randomBytes } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { closeAllSshTransports, sshTransport } from "../../provider/transport";
import { killProcess, liveQemuPids } from "../helpers/processes";
import { sshOptionsFor, testbed, type TestbedFile } from "../testbed/testbed";

export function hostScratch(tag: string, first: () => void = () => undefined): { bed: TestbedFile; run: string; root: string; workDirs: string[] } {
  const bed = testbed();
  const run = randomBytes(3).toString("hex");
  const root = mkdtempSync(path.join(tmpdir(), `pq-${tag}-`));
  const workDirs = bed.hosts.map((h) => `${h.workDir}/e2e-${tag}-${run}`);
  after(async () => {
    first();
    for (const pid of liveQemuPids(`e2e-${tag}-${run}/`)) killProcess(pid);
    await Promise.all(bed.hosts.map((h, i) => sshTransport(sshOptionsFor(h)).exec(["rm", "-rf", "--", workDirs[i]]).catch(() => undefined)));
    rmSync(root, { recursive: true, force: true });
    await closeAllSshTransports();
  });
  return { bed, run, root, workDirs };
}
