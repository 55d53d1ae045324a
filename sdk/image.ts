import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { Connection } from "../provider/transport";
import { hostIdOf, recordPlacement } from "./hostId";
import { ownerLabel } from "./ownerLabel";
import { shimProvider, withOutputs } from "./shim";

export interface ImageArgs {
  /**
   * The host: a Host's `connection` output.
   * @change replace
   */
  host: pulumi.Input<Connection>;
  /**
   * Where the publisher serves the file (http or https; no credentials in it).
   * @change in place
   */
  url: pulumi.Input<string>;
  /**
   * The file's sha256, as the publisher lists it (give this or sha512).
   * @change replace
   */
  sha256?: pulumi.Input<string>;
  /**
   * The file's sha512, as the publisher lists it (give this or sha256).
   * @change replace
   */
  sha512?: pulumi.Input<string>;
  /**
   * The image's format once decompressed. Default "qcow2"; a file that is not is refused naming format.
   * @change replace
   */
  format?: pulumi.Input<"qcow2" | "raw">;
  /**
   * "none", "gz", "xz", "zst" or "bz2". Default: from the URL's ending. The host decompresses it.
   * @change in place
   */
  compression?: pulumi.Input<"none" | "gz" | "xz" | "zst" | "bz2">;
  /**
   * A PEM certificate the HTTPS server's chain must lead to (a private mirror with its own CA).
   * @change in place
   */
  caCertificate?: pulumi.Input<string>;
  /**
   * Who downloads: "host" (default: the host itself, with curl or wget) or "client" (the machine running Pulumi, streaming it to the host).
   * @change in place
   */
  via?: pulumi.Input<"host" | "client">;
  /**
   * How long the download may take, in milliseconds. Default an hour.
   * @change in place
   */
  timeoutMs?: pulumi.Input<number>;
  /**
   * Use an image whose header names a backing or external data file. Refused by default: QEMU would hand the guest that file on the host.
   * @change in place
   */
  allowExternalFiles?: pulumi.Input<boolean>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host", "ownerToken"] as const;

/**
 * A published disk image (a URL and its digest) in the host's cache under its working directory:
 * fetched once however many stacks ask, its digest checked before anything uses it, shared by
 * every stack and fleet there. Give its `path` to a Disk's `backingImage` for each VM's own clone.
 * Delete keeps the cached file for the next user; `pulumi-qemu gc --images` removes unused ones.
 */
export class Image extends QemuResource {
  /** The cached image on the host, named by its digest. */
  declare readonly path: pulumi.Output<string>;
  /** The format QEMU opens it with. */
  declare readonly format: pulumi.Output<"qcow2" | "raw">;
  /** The size the guest sees. */
  declare readonly virtualSizeBytes: pulumi.Output<number>;
  /** Bytes the cached file takes on the host's disk. */
  declare readonly actualSizeBytes: pulumi.Output<number>;
  /** How its create found it: "cache" (already on the host), "host" (downloaded by the host) or "client" (streamed from the machine running Pulumi). */
  declare readonly fetchedBy: pulumi.Output<"cache" | "host" | "client">;

  constructor(name: string, args: ImageArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = withOutputs({ ...args, host: pulumi.secret(args.host), ...hostIdOf(args.host), owner: ownerLabel(name) },
      ["path", "format", "virtualSizeBytes", "actualSizeBytes", "fetchedBy"]);
    super(imageProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "Image");
    recordPlacement(this, args.host);
  }
}

/** @internal The serialized provider (exported for tests). */
export const imageProvider = shimProvider("image");
