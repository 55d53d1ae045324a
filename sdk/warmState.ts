import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { Connection } from "../provider/transport";
import type { ReadinessSpec } from "../provider/vm/spec";
import type { CloudInitInputs } from "../provider/cloudInit/seed";
import { hostIdOf, recordPlacement } from "./hostId";
import { ownerLabel } from "./ownerLabel";
import { shimProvider, withOutputs } from "./shim";

export interface WarmStateArgs {
  /**
   * The host: a Host's `connection` output.
   * @change replace
   */
  host: pulumi.Input<Connection>;
  /**
   * The image the saved guest's disk is a linked clone of (a path on the host: an Image's `path`, a shared Disk's).
   * @change replace
   */
  baseImage: pulumi.Input<string>;
  /**
   * The base image's format. Default: what qemu-img reads.
   * @change replace
   */
  baseFormat?: pulumi.Input<"qcow2" | "raw">;
  /**
   * Size of the saved guest's disk. Default the base's.
   * @change replace
   */
  diskSize?: pulumi.Input<string | number>;
  /**
   * The guest's architecture (QEMU's name). Default "x86_64".
   * @change replace
   */
  arch?: pulumi.Input<string>;
  /**
   * Default 1.
   * @change replace
   */
  cpus?: pulumi.Input<number>;
  /**
   * Default "512M". The VMs made from it must have the same.
   * @change replace
   */
  memory?: pulumi.Input<string | number>;
  /**
   * QEMU machine type.
   * @change replace
   */
  machine?: pulumi.Input<string>;
  /**
   * QEMU CPU model.
   * @change replace
   */
  cpu?: pulumi.Input<string>;
  /**
   * One accelerator, or "auto" (default, the host's best): the VMs made from it resume under the same.
   * @change replace
   */
  accelerator?: pulumi.Input<string>;
  /**
   * Direct kernel boot: a path on the host.
   * @change replace
   */
  kernel?: pulumi.Input<string>;
  /**
   * An initrd for the kernel: a path on the host.
   * @change replace
   */
  initrd?: pulumi.Input<string>;
  /**
   * The kernel's command line while the guest boots (a VM made from it may give its own for later boots).
   * @change replace
   */
  append?: pulumi.Input<string>;
  /**
   * More QEMU arguments; the VMs made from it must have the same devices.
   * @change replace
   */
  extraArgs?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The NICs of the VMs made from it, in order: "user" or "private". Default ["user"].
   * @change replace
   */
  nics?: pulumi.Input<Array<"user" | "private">>;
  /**
   * When the guest counts as booted before it is saved; its guest agent is always waited for too.
   * @change in place
   */
  readiness?: pulumi.Input<ReadinessSpec>;
  /**
   * The saved guest's cloud-init NoCloud seed, as a Vm's: it runs once, in the guest saved. A Vm
   * made from the state must carry a seed too, with `metaData["instance-id"]` = `instanceId`
   * (a Fleet does this). Kept secret.
   * @change replace
   */
  cloudInit?: pulumi.Input<CloudInitInputs>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host", "ownerToken", "cloudInit"] as const;

/**
 * A guest booted once on a host and saved running: its disk (frozen, the base of the clones),
 * its RAM in a file, its devices' state. A Vm with `warmFrom: state.dir` and a clone of
 * `state.disk` resumes it in a fraction of a boot, its RAM mapped copy-on-write from the file,
 * and is then made itself (hostname, machine-id, SSH host keys, RNG, clock, private MACs and
 * addresses) through the guest agent. Named by its content: stacks that declare the same guest
 * on a host share one. Delete keeps it; `pulumi-qemu gc --images` removes it once unused.
 */
export class WarmState extends QemuResource {
  /** The state's directory on the host: a Vm's `warmFrom`. */
  declare readonly dir: pulumi.Output<string>;
  /** The saved guest's disk: the `backingImage` of each VM's clone. */
  declare readonly disk: pulumi.Output<string>;
  /** Names the state: a hash of the guest's spec, the base image, QEMU's version and the accelerator. */
  declare readonly key: pulumi.Output<string>;
  /** The accelerator the guest was saved under. */
  declare readonly acceleratorInUse: pulumi.Output<string>;
  /** Whether its create found it already saved (by an earlier up, or another stack). */
  declare readonly reused: pulumi.Output<boolean>;
  /** How long its build took, in milliseconds. */
  declare readonly buildMs: pulumi.Output<number>;
  /** With cloudInit: the saved guest's cloud-init instance-id, which each Vm made from it gives as its own. */
  declare readonly instanceId: pulumi.Output<string | undefined>;

  constructor(name: string, args: WarmStateArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = withOutputs({ ...args, host: pulumi.secret(args.host), ...hostIdOf(args.host), owner: ownerLabel(name) },
      ["dir", "disk", "key", "acceleratorInUse", "reused", "buildMs", "instanceId"]);
    if (args.cloudInit !== undefined) inputs.cloudInit = pulumi.secret(args.cloudInit);
    super(warmStateProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "WarmState");
    recordPlacement(this, args.host);
  }
}

/** @internal The serialized provider (exported for tests). */
export const warmStateProvider = shimProvider("warmState");
