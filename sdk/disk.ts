import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { Connection } from "../provider/transport";
import { hostIdOf, recordPlacement } from "./hostId";
import { ownerLabel } from "./ownerLabel";
import { shimProvider, withOutputs } from "./shim";

export interface DiskArgs {
  /**
   * The host: a Host's `connection` output.
   * @change replace
   */
  host: pulumi.Input<Connection>;
  /**
   * Names the default path `<workDir>/disks/<name>.<tag>.<format>` (tag: 8 hex digits of its own, so two stacks with one name never meet). Default: the resource's name.
   * @change replace
   */
  name?: pulumi.Input<string>;
  /**
   * Absolute path of the image on the host. Default under the host's working directory.
   * @change replace
   */
  path?: pulumi.Input<string>;
  /**
   * Default "qcow2".
   * @change replace
   */
  format?: pulumi.Input<"qcow2" | "raw">;
  /**
   * "10G", "512M" or bytes. Growing resizes in place; shrinking is refused unless `allowShrink`.
   * @change in place
   */
  size?: pulumi.Input<string | number>;
  /**
   * Make a linked clone on this base image (a path on the host, e.g. another Disk's `path`).
   * @change replace
   */
  backingImage?: pulumi.Input<string>;
  /**
   * Format of `backingImage`. Default: what qemu-img detects.
   * @change none
   */
  backingFormat?: pulumi.Input<"qcow2" | "raw">;
  /**
   * Upload this local file as the image (temp name, checksum, rename).
   * @change replace
   */
  source?: pulumi.Input<string>;
  /**
   * Upload a qcow2 `source` whose header names a backing file or an external data file. Refused
   * by default: QEMU would open that file on the host and hand it to the guest.
   * @change none
   */
  allowExternalFiles?: pulumi.Input<boolean>;
  /**
   * How long the upload of `source` may take, in milliseconds; default an hour.
   * @change none
   */
  uploadTimeoutMs?: pulumi.Input<number>;
  /**
   * Accept that a smaller `size` cuts off the data past the new end.
   * @change in place
   */
  allowShrink?: pulumi.Input<boolean>;
  /**
   * A base image several stacks or fleets place at one `path` (needs `source` and `path`): create
   * adopts a file already there with the same sha256, and delete leaves it while another image
   * uses it as backing file or a VM holds it.
   * @change none
   */
  shared?: pulumi.Input<boolean>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host", "ownerToken"] as const;

/**
 * A disk image on a host. Never overwrites an existing file, never shrinks by default, and is
 * not deleted while a running VM uses it or another image uses it as its base.
 */
export class Disk extends QemuResource {
  /** Absolute path of the image on the host. */
  declare readonly path: pulumi.Output<string>;
  /** The image's format as qemu-img reads it. */
  declare readonly format: pulumi.Output<"qcow2" | "raw">;
  /** The size the guest sees. */
  declare readonly virtualSizeBytes: pulumi.Output<number>;
  /** Bytes the image takes on the host's disk (sparse and copy-on-write images take less). */
  declare readonly actualSizeBytes: pulumi.Output<number>;
  /** The base image named in the header (linked clones). */
  declare readonly backingFile: pulumi.Output<string | undefined>;
  /** True when the base image is gone (the clone cannot be used). */
  declare readonly backingMissing: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: DiskArgs, opts?: pulumi.CustomResourceOptions) {
    const owner = ownerLabel(name);
    const inputs = withOutputs({ ...args, name: args.name ?? name, host: pulumi.secret(args.host), ...hostIdOf(args.host), owner },
      ["path", "format", "virtualSizeBytes", "actualSizeBytes", "backingFile", "backingMissing"]);
    super(diskProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "Disk");
    recordPlacement(this, args.host);
  }
}

/** @internal The serialized provider (exported for tests). */
export const diskProvider = shimProvider("disk");
