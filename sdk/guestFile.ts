import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import { guestTargetOf } from "./guestTarget";
import { shimProvider, withOutputs } from "./shim";
import type { Vm } from "./vm";

export interface GuestFileArgs {
  /**
   * The VM to put it in: a Vm with `guestAgent: true` whose guest runs qemu-guest-agent.
   * @change replace
   */
  vm: Vm;
  /**
   * Where in the guest: an absolute path in an existing directory.
   * @change replace
   */
  path: pulumi.Input<string>;
  /**
   * The file's text. Give this or `source`.
   * @change in place
   */
  content?: pulumi.Input<string>;
  /**
   * A file on the machine running Pulumi, read at each preview and up (its digest decides a change).
   * @change in place
   */
  source?: pulumi.Input<string>;
  /**
   * Octal mode, for example "0600". Default "0644".
   * @change in place
   */
  mode?: pulumi.Input<string>;
  /**
   * "user", "user:group" or numeric ids. Default: the agent's user (root).
   * @change in place
   */
  owner?: pulumi.Input<string>;
  /**
   * Replace a file already at `path` with other content when made (default: refused, naming the path).
   * @change in place
   */
  overwrite?: pulumi.Input<boolean>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host"] as const;

/**
 * A file put into a VM's guest through the QEMU guest agent: written beside its path and renamed
 * into place, checked by digest on refresh (a file changed in the guest is put back by the next
 * up), rewritten when its content changes, removed on destroy while it still holds what was put there.
 */
export class GuestFile extends QemuResource {
  /** The file's sha256 in the guest: what was put there, or what a refresh found ("" when it is gone). */
  declare readonly sha256: pulumi.Output<string>;
  /** Its size in bytes. */
  declare readonly size: pulumi.Output<number>;

  constructor(name: string, args: GuestFileArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = withOutputs({
      path: args.path, content: args.content, source: args.source, mode: args.mode, owner: args.owner, overwrite: args.overwrite,
      ...guestTargetOf(`GuestFile ${name}`, args.vm),
    }, ["sha256", "size", "sourceSha256"]);
    super(guestFileProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "GuestFile");
  }
}

/** @internal The serialized provider (exported for tests). */
export const guestFileProvider = shimProvider("guestFile");
