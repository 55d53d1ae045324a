/**
 * A guest saved running and resumed elsewhere (a WarmState and the VMs made from it): QEMU's
 * migration to a file with the RAM left out (`x-ignore-shared`: the RAM is the shared memory
 * file itself), and an incoming migration from it into a new QEMU whose RAM maps that file
 * copy-on-write. The saving QEMU is stopped first, so the disk and the RAM are one moment.
 */
import { QemuError } from "../errors";
import { shQuote } from "../transport/quote";
import type { Transport } from "../transport";
import type { WarmLayout } from "../layout";
import type { VmHandle } from "./handle";
import { withVmQmp } from "./qmpEndpoint";
import type { QmpClient } from "../qemu/qmp";

/** What a WarmState records beside its files (meta.json), for the VMs made from it. */
export interface WarmMeta {
  key: string;
  /** The MAC of each NIC of the saved guest, by position: a resumed VM finds its NICs by them. */
  macs: string[];
  accelerator: string;
  memoryBytes: number;
  created: string;
  /** How long the build took, from the start of its QEMU to the saved state. */
  buildMs: number;
  /** The saved guest's cloud-init instance-id, when it booted with a seed drive (the VMs made from it have one too). */
  instanceId?: string;
}

/**
 * Why a VM's cloud-init seed does not fit the saved guest; undefined when it does. The saved
 * devices include the seed drive or not, so a VM has one exactly when the state does; and its
 * instance-id must be the saved guest's, or cloud-init takes the VM for a new instance at its
 * next boot and runs its first-boot set-up again (new host keys, user-data's commands). Pure.
 */
export function warmSeedProblem(saved: string | undefined, own: string | undefined): { property: string; reason: string } | undefined {
  if (saved === own) return undefined;
  if (own === undefined) return { property: "cloudInit", reason: `is needed: the saved guest has a cloud-init seed drive; give the state's cloudInit with metaData["instance-id"] = "${saved}" (its instanceId)` };
  if (saved === undefined) return { property: "cloudInit", reason: "must be left out: the saved guest had no cloud-init seed drive" };
  return { property: "cloudInit.metaData.instance-id", reason: `is "${own}", not the saved guest's "${saved}" (the WarmState's instanceId): cloud-init would take the VM for a new instance at its next boot and run its first-boot set-up again` };
}

const IGNORE_SHARED = { capabilities: [{ capability: "x-ignore-shared", state: true }] };

/** Polls query-migrate until the migration has completed; its failure, or none within timeoutMs, throws. */
async function migrated(qmp: QmpClient, where: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await qmp.execute<{ status?: string; "error-desc"?: string }>("query-migrate", undefined, 10000);
    if (r.status === "completed") return;
    if (r.status === "failed" || r.status === "cancelled") throw new QemuError("COMMAND_FAILED", `${where}: the migration ${r.status}${r["error-desc"] ? `: ${r["error-desc"]}` : ""}`);
    if (Date.now() > deadline) throw new QemuError("TIMEOUT", `${where}: the migration had not completed after ${timeoutMs} ms (status ${r.status ?? "none"})`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** Stops the guest and writes its devices' state to `file` on the host (the RAM stays in the memory file). */
export async function saveDevices(handle: VmHandle, file: string, timeoutMs = 120000): Promise<void> {
  const where = `${handle.transport.description}: VM ${handle.name}: saving its state to ${file}`;
  await withVmQmp(handle, 10000, async (qmp) => {
    await qmp.execute("stop");
    await qmp.execute("migrate-set-capabilities", IGNORE_SHARED);
    // QEMU runs an exec: URI with /bin/sh -c on the host.
    await qmp.execute("migrate", { uri: `exec:cat > ${shQuote(file)}` });
    await migrated(qmp, where, timeoutMs);
  });
}

/** A QEMU started with `-incoming defer` takes the devices' state from `file`, then runs the guest on. */
export async function resumeDevices(handle: VmHandle, file: string, timeoutMs = 120000): Promise<void> {
  const where = `${handle.transport.description}: VM ${handle.name}: resuming the saved guest from ${file}`;
  await withVmQmp(handle, 10000, async (qmp) => {
    await qmp.execute("migrate-set-capabilities", IGNORE_SHARED);
    await qmp.execute("migrate-incoming", { uri: `exec:cat ${shQuote(file)}` });
    await migrated(qmp, where, timeoutMs);
    await qmp.execute("cont");
  });
}

/** The WarmState's record; undefined while it is unfinished (or gone). */
export async function readWarmMeta(t: Transport, layout: WarmLayout): Promise<WarmMeta | undefined> {
  const r = await t.exec(["cat", "--", layout.meta]);
  if (r.exitCode !== 0) return undefined;
  try {
    const meta = JSON.parse(r.stdout) as WarmMeta;
    return Array.isArray(meta.macs) && typeof meta.key === "string" ? meta : undefined;
  } catch {
    return undefined;
  }
}
