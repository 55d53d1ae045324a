import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { AcceleratorName, AcceleratorReport } from "../provider/host/accelerators/types";
import type { Connection } from "../provider/transport";
import type { QemuBinary } from "../provider/host/facts";
import { hostIdOf } from "./hostId";
import { shimProvider, withOutputs } from "./shim";

export type { AcceleratorName, AcceleratorReport };

export interface HostCapabilitiesArgs {
  /**
   * The host to judge: a Host's `connection` output.
   * @change in place
   */
  host: pulumi.Input<Connection>;
  /**
   * Architecture of the guests to judge for (x86_64, aarch64, ...). Default: the host's own.
   * @change in place
   */
  guestArch?: pulumi.Input<string>;
  /**
   * Run the functional probe on every create and refresh instead of trusting the host's cache.
   * @change in place
   */
  reprobe?: pulumi.Input<boolean>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host"] as const;

/**
 * Which hypervisor APIs (kvm, hvf, whpx, haxm, aehd, tcg) a host can really use: present,
 * accessible to the SSH user, supported by its QEMU, and usable (a probe guest reached 64-bit
 * long mode under it), with a one-sentence reason when not. A refresh judges the host again.
 */
export class HostCapabilities extends QemuResource {
  /** One report per hypervisor API: present, accessible, supported by QEMU, usable, and why not. */
  declare readonly accelerators: pulumi.Output<AcceleratorReport[]>;
  /** The best usable accelerator for `guestArch`; undefined when none is usable. */
  declare readonly recommended: pulumi.Output<AcceleratorName | undefined>;
  /** The guest architecture the report is for. */
  declare readonly guestArch: pulumi.Output<string>;
  /** Every qemu-system-* found, with its version. */
  declare readonly qemu: pulumi.Output<QemuBinary[]>;
  /** The host facts the report was judged on. */
  declare readonly hostFacts: pulumi.Output<{ os: string; arch: string; kernel: string; user: string; cpuModel: string; cores: number; memoryBytes: number }>;

  constructor(name: string, args: HostCapabilitiesArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = withOutputs({ ...args, host: pulumi.secret(args.host), ...hostIdOf(args.host) }, ["guestArch", "accelerators", "recommended", "qemu", "hostFacts"]);
    super(hostCapabilitiesProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "HostCapabilities");
  }
}

/** @internal The serialized provider (exported for tests). */
export const hostCapabilitiesProvider = shimProvider("hostCapabilities");
