import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { GuestConnection } from "../provider/resources/vm";
import type { GuestInterface } from "../provider/vm/guestAgent";
import type { RunState } from "../provider/vm/observe";
import type { DiskAttachment, NetworkSpec, PortForward, PortForwardInput, ReadinessSpec, StopTimeouts } from "../provider/vm/spec";
import type { Connection } from "../provider/transport";
import type { CloudInitInputs } from "../provider/cloudInit/seed";
import { hostIdOf, recordPlacement } from "./hostId";
import type { NetworkAttachment } from "./network";
import { ownerLabel } from "./ownerLabel";
import { shimProvider, withOutputs } from "./shim";

export type { GuestInterface };
export type { CloudInitInputs, DiskAttachment, NetworkSpec, PortForward, PortForwardInput, ReadinessSpec, StopTimeouts, GuestConnection, RunState };

export interface VmArgs {
  /**
   * The host: a Host's `connection` output. Changing it replaces the VM.
   * @change replace
   */
  host: pulumi.Input<Connection>;
  /**
   * Names the state directory and QEMU's `-name guest=`. Default: the resource's name.
   * @change replace
   */
  name?: pulumi.Input<string>;
  /**
   * Guest architecture (x86_64, aarch64, ...). Default x86_64.
   * @change restart
   */
  arch?: pulumi.Input<string>;
  /**
   * Default 1. Changing it restarts the VM.
   * @change restart
   */
  cpus?: pulumi.Input<number>;
  /**
   * "512M", "2G" or bytes. Default "512M". Changing it restarts the VM.
   * @change restart
   */
  memory?: pulumi.Input<string | number>;
  /**
   * QEMU machine type. Default q35 on x86, virt on ARM.
   * @change restart
   */
  machine?: pulumi.Input<string>;
  /**
   * QEMU CPU model (`-cpu`).
   * @change restart
   */
  cpu?: pulumi.Input<string>;
  /**
   * "auto" (the host's capability report picks), one of kvm/hvf/whpx/haxm/aehd/tcg, or an ordered fallback list.
   * @change restart
   */
  accelerator?: pulumi.Input<string | string[]>;
  /**
   * Image paths on the host (e.g. Disk `path` outputs), or attachments with an interface.
   * @change restart
   */
  disks?: pulumi.Input<pulumi.Input<string | DiskAttachment>[]>;
  /**
   * An ISO image on the host, attached as a read-only CD-ROM.
   * @change restart
   */
  cdrom?: pulumi.Input<string>;
  /**
   * Direct kernel boot: paths on the host.
   * @change restart
   */
  kernel?: pulumi.Input<string>;
  /**
   * Initial ramdisk for `kernel`, a path on the host.
   * @change restart
   */
  initrd?: pulumi.Input<string>;
  /**
   * Kernel command line for `kernel`. QEMU reads it from a file in the VM's state directory,
   * private to the SSH user, so it is not on QEMU's command line, which every local user of the
   * host can read (one with a double quote or over 1023 bytes cannot go there: the CLI output says so).
   * @change restart
   */
  append?: pulumi.Input<string>;
  /**
   * Networks, one NIC each; default one user-mode network with `ports`. A Network joins with
   * `network.attach(address)` (keep a `{ type: "user" }` entry first for the outside and SSH).
   * @change restart
   */
  networks?: pulumi.Input<pulumi.Input<NetworkSpec | NetworkAttachment>[]>;
  /**
   * Port forwards on the default user-mode network. A forward without `host` (or `host: "auto"`)
   * gets a free port from the host's ledger, shared by every stack of the SSH user, so one program
   * runs twice at once on one host; it stays with the VM across updates and restarts (see
   * `forwardedPorts` and `guestConnection`).
   * @change restart
   */
  ports?: pulumi.Input<pulumi.Input<PortForwardInput>[]>;
  /**
   * Extra QEMU arguments, one argv element each (the escape hatch).
   * @change restart
   */
  extraArgs?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * "running" (default) or "stopped": enforced on every refresh and up. "any": created running,
   * then its power state is left alone (for tests that stop, pause and start VMs themselves); a
   * changed spec still restarts it when it is up. Changing it only starts or stops the VM.
   * @change in place
   */
  state?: pulumi.Input<"running" | "stopped" | "any">;
  /**
   * What "ready" means after a start: a serial-log pattern and/or a guest port that answers.
   * @change in place
   */
  readiness?: pulumi.Input<ReadinessSpec>;
  /**
   * Bounds of the stop ladder (ACPI powerdown, QMP quit, SIGTERM, SIGKILL).
   * @change in place
   */
  stopTimeouts?: pulumi.Input<StopTimeouts>;
  /**
   * For `guestConnection`: the guest's SSH user. Default root.
   * @change in place
   */
  guestUser?: pulumi.Input<string>;
  /**
   * For `guestConnection`: the private key that logs in to the guest. Always stored as a secret.
   * @change in place
   */
  guestPrivateKey?: pulumi.Input<string>;
  /**
   * For `guestConnection`: the guest port of its sshd (forwarded with `ports`). Default 22.
   * @change in place
   */
  guestSshPort?: pulumi.Input<number>;
  /**
   * A cloud-init NoCloud seed built by the package (no genisoimage needed on the host) and
   * attached as a read-only virtio disk labelled "cidata". Kept secret: user-data often holds
   * keys and password hashes. Changing it restarts the VM with a new instance-id.
   * @change restart
   */
  cloudInit?: pulumi.Input<CloudInitInputs>;
  /**
   * The QEMU guest agent's channel: a virtio-serial port on a socket in the VM's state directory,
   * private to the SSH user. A guest running qemu-guest-agent then gives `guestOs` and
   * `guestInterfaces`, readiness `{ guestAgent: true }`, a stop that works when the guest ignores
   * ACPI, consistent snapshots (a file-system freeze), GuestCommand and GuestFile, with no guest network.
   * @change restart
   */
  guestAgent?: pulumi.Input<boolean>;
  /**
   * A WarmState's `dir`: at its create the VM resumes that saved guest instead of booting (its
   * first disk must be an unwritten clone of the state's `disk`; needs guestAgent), then is made
   * itself through the agent before it counts as started. Every later start boots its own disk.
   * @change restart
   */
  warmFrom?: pulumi.Input<string>;
  /**
   * Restarts of VMs with the same group run one host at a time (Fleet's `rollingUpdate` sets it).
   * @change in place
   */
  rolloutGroup?: pulumi.Input<string>;
  /**
   * At create: take over a running QEMU instance started by hand with `-name NAME` (memory and cpus
   * must match) instead of starting one; it is not restarted. A VM of this package is never taken:
   * each belongs to the resource that made it (its state directory's owner record), and a VM whose
   * state was lost is left to its owner (or `pulumi-qemu gc`).
   * @change in place
   */
  adopt?: pulumi.Input<boolean>;
  /**
   * A lease, for example "2h" (units s, m, h, d): recorded on the host with the VM's owner, from
   * its create and renewed by every update. Once it has passed, `pulumi-qemu gc --expired` (a CI
   * job's cleanup step, a cron line) stops the VM and removes its state directory: the VMs of a
   * killed CI job do not run until someone finds them. Nothing acts on it by itself.
   * @change in place
   */
  expiresAfter?: pulumi.Input<string>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host", "guestPrivateKey", "guestConnection", "cloudInit", "seedKey", "ownerToken", "spec"] as const;

/**
 * A QEMU virtual machine on a host whose desired state is enforced: a refresh shows a VM that
 * died, and the next up starts it again. Changing cpus, memory, disks, ... restarts it; changing
 * the host or name replaces it. Deleting it stops it (powerdown, quit, SIGTERM, SIGKILL) and
 * removes its state directory; disks stay.
 */
export class Vm extends QemuResource {
  /** running, paused, failed (QEMU alive but the guest is not running) or stopped. */
  declare readonly status: pulumi.Output<RunState>;
  /** What was observed: QMP's run state, or why the VM counts as stopped. */
  declare readonly statusDetail: pulumi.Output<string>;
  /** The QEMU process on the host, while it runs. */
  declare readonly pid: pulumi.Output<number | undefined>;
  /** The accelerator the running instance uses ("auto" and fallback lists resolved). */
  declare readonly acceleratorInUse: pulumi.Output<string | undefined>;
  /** The accelerators that failed at the last start before acceleratorInUse ran the VM, one line each with QEMU's words. */
  declare readonly acceleratorFallbacks: pulumi.Output<string[] | undefined>;
  /** Every host-port forward, normalized (protocol and host address filled in). */
  declare readonly forwardedPorts: pulumi.Output<PortForward[]>;
  /** The VM's state directory on the host (pidfile, QMP socket, serial log, seed). */
  declare readonly stateDir: pulumi.Output<string>;
  /** The guest's serial console, logged to this file on the host. */
  declare readonly serialLog: pulumi.Output<string>;
  /**
   * Host, port, user and private key of the guest's SSH, in the shape @pulumi/command's
   * remote.Command takes: the forward's address as the machine running Pulumi reaches it (the SSH
   * host's address, or the forward's `hostAddress` when it names one). None when the forward is
   * bound to a remote host's loopback (reachable from that host only). Secret.
   */
  declare readonly guestConnection: pulumi.Output<GuestConnection | undefined>;
  /** With guestAgent, while the guest's agent answers: its OS name (os-release's PRETTY_NAME on Linux). */
  declare readonly guestOs: pulumi.Output<string | undefined>;
  /** With guestAgent, while the guest's agent answers: every interface but the loopback, with its MAC and "ADDRESS/PREFIX" addresses. */
  declare readonly guestInterfaces: pulumi.Output<GuestInterface[] | undefined>;

  constructor(name: string, args: VmArgs, opts?: pulumi.CustomResourceOptions) {
    const owner = ownerLabel(name);
    const inputs = withOutputs({ ...args, name: args.name ?? name, host: pulumi.secret(args.host), ...hostIdOf(args.host), owner },
      ["status", "statusDetail", "pid", "acceleratorInUse", "acceleratorFallbacks", "forwardedPorts", "stateDir", "serialLog", "guestConnection", "guestOs", "guestInterfaces"]);
    if (args.guestPrivateKey !== undefined) inputs.guestPrivateKey = pulumi.secret(args.guestPrivateKey);
    if (args.cloudInit !== undefined) inputs.cloudInit = pulumi.secret(args.cloudInit);
    super(vmProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "Vm");
    recordPlacement(this, args.host);
    if (declaresNoWritableDisk(args.disks)) vmsWithoutWritableDisk.set(this, name);
  }
}

/** Vms whose program says, with plain values, that they have no writable disk: a Snapshot of one is refused at preview. */
const vmsWithoutWritableDisk = new WeakMap<Vm, string>();

function declaresNoWritableDisk(disks: VmArgs["disks"]): boolean {
  if (disks === undefined) return true;
  if (!Array.isArray(disks)) return false; // an Output: known only at apply (the provider refuses then)
  return disks.every((d) => typeof d === "object" && d !== null && !pulumi.Output.isInstance(d) && (d as DiskAttachment).readOnly === true);
}

/** @internal The resource name of `vm` when the program declared it with no writable disk (undefined, [] or only read-only attachments). */
export function withoutWritableDisk(vm: Vm): string | undefined {
  return vmsWithoutWritableDisk.get(vm);
}

/** @internal The serialized provider (exported for tests). */
export const vmProvider = shimProvider("vm");
