/**
 * `pulumi-qemu gc`: what the VMs of a working directory are, whose, how old, until when leased,
 * and in what state; with `expired`, the VMs whose lease has ended are stopped (their own QEMU
 * only, as any delete) and their state directories removed, and then the disks only they used:
 * an image whose owner record names the VM's own project and stack, which no other VM holds or
 * declares and no clone reads (never a shared image, another owner's, or one without a record).
 * No daemon: a CI job's cleanup step or a cron line runs it.
 */
import { hostOps } from "../platform";
import { vmHandle } from "../vm/handle";
import { expectSuccess } from "../errors";
import type { Transport } from "../transport";
import { vmLayout, vmStateRoot } from "../layout";
import { observe, type RunState } from "../vm/observe";
import { describeOwner, parseOwnerRecord, type OwnerRecord } from "../vm/owner";
import { listStateDirsArgv } from "../platform/posixVmScripts";
import { stopVm, type Progress } from "../vm/execute";
import { removeLeftImage } from "../disks/images";

export interface GcEntry {
  /** The VM's name on the host (its state directory's). */
  name: string;
  dir: string;
  /** Whose, for people; undefined when the directory has no record (an older release made it). */
  owner?: string;
  record?: OwnerRecord;
  state: RunState;
  pid?: number;
  /** The started spec's writable disks: removed after the VM when only it used them. */
  disks: string[];
}

/** Every VM state directory of the working directory, observed (one round trip for the list, one for all the observations). */
export async function inventory(t: Transport, workDir: string): Promise<GcEntry[]> {
  if (!hostOps(t).ledger) throw new Error(`${t.description}: gc does not support ${hostOps(t).name} hosts yet`);
  const root = vmStateRoot(workDir);
  const argv = listStateDirsArgv(root);
  const names = expectSuccess(`${t.description}: listing ${root}`, argv, await t.exec(argv)).stdout.split("\n").filter(Boolean);
  return Promise.all(names.map(async (name) => {
    const layout = vmLayout(workDir, name);
    const seen = await observe(vmHandle(t, layout, name));
    const record = parseOwnerRecord(seen.ownerRecord);
    return {
      name, dir: layout.dir, state: seen.state, pid: seen.pid, record,
      owner: seen.ownerRecord === undefined ? undefined : describeOwner(record),
      disks: (seen.startedSpec?.disks ?? []).filter((d) => !d.readOnly).map((d) => d.path),
    };
  }));
}

/** A lease has ended: its record says when, and that time has passed (an unreadable record never counts as expired). */
export function isExpired(entry: Pick<GcEntry, "record">, now: number): boolean {
  const at = entry.record?.expires === undefined ? NaN : Date.parse(entry.record.expires);
  return Number.isFinite(at) && at <= now;
}

function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

export function leaseText(record: OwnerRecord | undefined, now: number): string {
  const at = record?.expires === undefined ? NaN : Date.parse(record.expires);
  if (!Number.isFinite(at)) return "none";
  return at <= now ? `expired ${span(now - at)} ago` : `expires in ${span(at - now)}`;
}

/** The inventory as a table, one VM a line. */
export function formatInventory(entries: GcEntry[], now: number): string {
  const rows = entries.map((e) => {
    const created = e.record?.created === undefined ? NaN : Date.parse(e.record.created);
    return [e.name, e.owner ?? "(no owner record: made by an earlier release)", Number.isFinite(created) ? span(now - created) : "-",
      leaseText(e.record, now), e.pid && e.state !== "stopped" ? `${e.state} (pid ${e.pid})` : e.state];
  });
  const header = ["VM", "OWNER", "AGE", "LEASE", "STATE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}

/** Stops and removes each expired VM (its own QEMU only), then the disks only it used; returns what was removed. A failure is reported and the next one goes on. */
export async function collectExpired(t: Transport, workDir: string, entries: GcEntry[], now: number, progress: Progress): Promise<{ removed: string[]; failed: string[]; disks: string[] }> {
  const removed: GcEntry[] = [];
  const failed: string[] = [];
  for (const e of entries.filter((x) => isExpired(x, now))) {
    // Looked at again just before: its owner may have renewed the lease (an up) since the list was made.
    const again = parseOwnerRecord((await observe(vmHandle(t, vmLayout(workDir, e.name), e.name))).ownerRecord);
    if (!isExpired({ record: again }, Date.now())) {
      progress(`VM ${e.name}: its lease was renewed meanwhile; left alone`);
      continue;
    }
    progress(`VM ${e.name} (${e.owner}): lease ${leaseText(e.record, now)}; stopping it and removing its state directory`);
    try {
      await stopVm(vmHandle(t, vmLayout(workDir, e.name), e.name), { powerdownMs: 10000, quitMs: 5000 }, progress, { removeState: "vms" });
      removed.push(e);
    } catch (error) {
      progress(`VM ${e.name}: ${(error as Error).message}`);
      failed.push(e.name);
    }
  }
  // After every expired VM is gone, so that two of them on one disk do not keep it from each other.
  const disks: string[] = [];
  for (const e of removed) {
    for (const path of e.disks) {
      if (disks.includes(path)) continue;
      try {
        await removeLeftImage(t, workDir, path, e.record ?? {});
        progress(`Disk ${path}: removed (only expired VM ${e.name} used it)`);
        disks.push(path);
      } catch (error) {
        progress(`Disk ${path}: left: ${(error as Error).message}`);
      }
    }
  }
  return { removed: removed.map((e) => e.name), failed, disks };
}
