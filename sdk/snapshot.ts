import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { Connection } from "../provider/transport";
import { stateDirName } from "../provider/layout";
import { placementOf } from "./hostId";
import { shimProvider, withOutputs } from "./shim";
import type { Disk } from "./disk";
import { withoutWritableDisk, type Vm } from "./vm";

export interface SnapshotArgs {
  /**
   * The VM: its writable qcow2 images (through QMP while it runs, with qemu-img while it is stopped).
   * @change replace
   */
  vm?: Vm;
  /**
   * Or one Disk, whose image no running VM holds.
   * @change replace
   */
  disk?: Disk;
  /**
   * The snapshot's name in the images; starts with a letter. Default: the resource's name.
   * @change replace
   */
  name?: pulumi.Input<string>;
  /**
   * Save the running guest's memory and devices too (QEMU's savevm): a revert resumes the guest where it was, without a restart.
   * @change replace
   */
  memory?: pulumi.Input<boolean>;
  /**
   * Any value: when it changes, `up` brings the VM or disk back to this snapshot in place (no
   * replace). A running VM reverts to a snapshot with memory; a stopped one or a Disk to any.
   * @change in place
   */
  revertTrigger?: pulumi.Input<unknown>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host", "machineAtSnapshot"] as const;

/**
 * A named internal snapshot of a VM's qcow2 disks (and memory, when asked) or of a Disk, kept
 * inside the images. Taking one never overwrites another of the same name; deleting one never
 * frees data another snapshot or a clone needs (qcow2 counts references); a disk that linked
 * clones read through is never reverted.
 */
export class Snapshot extends QemuResource {
  /** The images that hold it. */
  declare readonly images: pulumi.Output<string[]>;
  /** It holds the guest's memory and devices. */
  declare readonly withMemory: pulumi.Output<boolean>;
  /** When it was taken (ISO 8601), as the images record it. */
  declare readonly takenAt: pulumi.Output<string | undefined>;
  /** Every image still has it; a refresh sees one deleted outside Pulumi. */
  declare readonly present: pulumi.Output<boolean>;
  /**
   * With memory: the machine it was saved from (memory, CPUs, machine type, devices). A revert of
   * a VM restarted since with other such settings is refused before anything changes. Secret:
   * it quotes the VM's extraArgs, which may carry one.
   */
  declare readonly machineAtSnapshot: pulumi.Output<Record<string, string> | undefined>;

  constructor(name: string, args: SnapshotArgs, opts?: pulumi.CustomResourceOptions) {
    const target = args.vm ?? args.disk;
    if (!target || (args.vm && args.disk)) throw new Error(`Snapshot ${name}: vm: give exactly one of vm (a Vm) and disk (a Disk)`);
    const diskless = args.vm && withoutWritableDisk(args.vm);
    // Refused at preview, before the Vm starts: the provider could tell only at create.
    if (diskless) throw new Error(`Snapshot ${name}: vm: Vm ${diskless} declares no writable disk to hold a snapshot (its disks are none or read-only); give it a qcow2 Disk`);
    const { host, hostId } = placementOf(target);
    // An Output of the target: the snapshot waits for it, and goes before it on delete.
    const of = args.vm ? { vm: pulumi.all([args.vm.id, args.vm.stateDir]).apply(([, dir]) => stateDirName(dir)) }
      : { disk: args.disk!.path };
    const inputs = withOutputs({ name: args.name ?? name, memory: args.memory, revertTrigger: args.revertTrigger, ...of,
      host: pulumi.secret(host as pulumi.Input<Connection>), ...(hostId ? { hostId } : {}) }, ["images", "withMemory", "takenAt", "present", "machineAtSnapshot"]);
    super(snapshotProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "Snapshot");
  }
}

/** @internal The serialized provider (exported for tests). */
export const snapshotProvider = shimProvider("snapshot");
