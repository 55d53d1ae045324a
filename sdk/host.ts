import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { QemuBinary } from "../provider/host/facts";
import type { Connection, SshHop } from "../provider/transport";
import { recordConnectionOwner } from "./hostId";
import { shimProvider, withOutputs } from "./shim";

export type { Connection, SshHop, QemuBinary };

/**
 * How to reach a machine. Leave `address` out for the local machine, or for the stack's default
 * host: `pulumi config set qemu:host [ssh://][user@]address[:port]`, with `qemu:hostKey`,
 * `qemu:knownHostsFile`, `qemu:agent`, `qemu:workDir`, and the secrets
 * `pulumi config set --secret qemu:privateKey` (or `qemu:password`, `qemu:passphrase`).
 * A value given here wins over the stack's.
 */
export interface HostArgs {
  /**
   * Host name or IP address to reach over SSH; absent for the local machine.
   * @change replace
   */
  address?: pulumi.Input<string>;
  /**
   * SSH port. Default 22.
   * @change replace
   */
  port?: pulumi.Input<number>;
  /**
   * SSH user.
   * @change replace
   */
  user?: pulumi.Input<string>;
  /**
   * Private key text (OpenSSH or PEM). Always stored as a secret.
   * @change in place
   */
  privateKey?: pulumi.Input<string>;
  /**
   * Passphrase of `privateKey`. Always stored as a secret.
   * @change in place
   */
  passphrase?: pulumi.Input<string>;
  /**
   * Password login. Always stored as a secret.
   * @change in place
   */
  password?: pulumi.Input<string>;
  /**
   * Path of an SSH agent socket, usually $SSH_AUTH_SOCK.
   * @change in place
   */
  agent?: pulumi.Input<string>;
  /**
   * The host's public key (an OpenSSH key line) or its "SHA256:..." fingerprint.
   * @change in place
   */
  hostKey?: pulumi.Input<string>;
  /**
   * An OpenSSH known_hosts file that lists the host.
   * @change in place
   */
  knownHostsFile?: pulumi.Input<string>;
  /**
   * Accept any host key: only for throwaway hosts, a man in the middle goes unnoticed.
   * @change in place
   */
  insecureAcceptAnyHostKey?: pulumi.Input<boolean>;
  /**
   * Hosts to hop through, in order. Always stored as a secret (they carry credentials).
   * @change in place
   */
  jumpHosts?: pulumi.Input<pulumi.Input<SshHop>[]>;
  /**
   * Bound on reaching the host, retries included. Default 10000.
   * @change in place
   */
  connectTimeoutMs?: pulumi.Input<number>;
  /**
   * How often an idle SSH connection is probed (keepalive), in milliseconds. Default 15000.
   * @change in place
   */
  keepaliveIntervalMs?: pulumi.Input<number>;
  /**
   * Connection attempts after the first. Default 2.
   * @change in place
   */
  retries?: pulumi.Input<number>;
  /**
   * Concurrent SSH channels on the connection; must stay below sshd's MaxSessions (10 by default). Default 8.
   * @change in place
   */
  maxChannels?: pulumi.Input<number>;
  /**
   * An idle pooled connection is closed after this long, in milliseconds. Default 5000.
   * @change in place
   */
  idleCloseMs?: pulumi.Input<number>;
  /**
   * How the SSH host runs commands: "posix" (sh: Linux, macOS, BSD; the default) or "windows"
   * (every command goes through PowerShell, encoded so that neither cmd nor PowerShell reparses it).
   * @change in place
   */
  platform?: pulumi.Input<"posix" | "windows">;
  /**
   * Absolute directory on the host for disks and VM state (`C:/...` on Windows). Default `$HOME/.pulumi-qemu`.
   * @change replace
   */
  workDir?: pulumi.Input<string>;
  /**
   * How much of the host's memory the running VMs of every stack on it may take together, as a
   * ratio: 1 (the default) all of it, 1.5 half as much again (guests rarely touch all of theirs),
   * 0.8 keeps a fifth for the host. A start past it is refused naming the figures and holders.
   * @change in place
   */
  memoryOvercommit?: pulumi.Input<number>;
}

const SECRET_INPUTS = ["privateKey", "passphrase", "password", "jumpHosts"] as const;

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["connection", ...SECRET_INPUTS] as const;

/**
 * A machine that runs QEMU, reached over SSH with its host key verified (or the local machine).
 * Creating it connects, runs `sh`, finds QEMU and makes the working directory; a refresh reads
 * the facts again. Deleting it leaves the host untouched.
 */
export class Host extends QemuResource {
  /** What Disk, Vm and HostCapabilities take as `host`. Secret: it carries the credentials. */
  declare readonly connection: pulumi.Output<Connection>;
  /** "local" or "user@address:port". */
  declare readonly description: pulumi.Output<string>;
  /** SHA256 fingerprint of the host key that was verified (SSH hosts). */
  declare readonly hostKeyFingerprint: pulumi.Output<string | undefined>;
  /** `uname -s`: Linux, Darwin, FreeBSD, ... */
  declare readonly os: pulumi.Output<string>;
  /** The host's CPU architecture, in QEMU's names (x86_64, aarch64, ...). */
  declare readonly arch: pulumi.Output<string>;
  /** `uname -r`. */
  declare readonly kernel: pulumi.Output<string>;
  /** The user QEMU runs as on the host. */
  declare readonly sshUser: pulumi.Output<string>;
  /** The CPU's model name. */
  declare readonly cpuModel: pulumi.Output<string>;
  /** Online logical CPUs. */
  declare readonly cores: pulumi.Output<number>;
  /** Physical memory. */
  declare readonly memoryBytes: pulumi.Output<number>;
  /** Every qemu-system-* found, with its version. */
  declare readonly qemu: pulumi.Output<QemuBinary[]>;
  /** Path of qemu-img on the host, when there is one (Disk needs it). */
  declare readonly qemuImg: pulumi.Output<string | undefined>;
  /** The working directory, resolved. */
  declare readonly workDir: pulumi.Output<string>;

  constructor(name: string, args: HostArgs = {}, opts?: pulumi.CustomResourceOptions) {
    const secrets = Object.fromEntries(SECRET_INPUTS.filter((k) => args[k] !== undefined).map((k) => [k, pulumi.secret(args[k])]));
    const inputs = withOutputs({ ...args, ...secrets }, ["connection", "description", "hostKeyFingerprint", "os", "arch", "kernel",
      "sshUser", "cpuModel", "cores", "memoryBytes", "qemu", "qemuImg", "workDir", "workDirIsDefault"]);
    super(hostProvider, name, inputs,
      { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "Host");
    recordConnectionOwner(this, this.connection);
  }
}

/** @internal The serialized provider (exported for tests). */
export const hostProvider = shimProvider("host");
