import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { GuestCommandLine } from "../provider/resources/guestCommand";
import { guestTargetOf } from "./guestTarget";
import { shimProvider, withOutputs } from "./shim";
import type { Vm } from "./vm";

export type { GuestCommandLine };

export interface GuestCommandArgs {
  /**
   * The VM to run in: a Vm with `guestAgent: true` whose guest runs qemu-guest-agent. Its guest
   * needs no network: the agent's channel is a virtio-serial port.
   * @change replace
   */
  vm: Vm;
  /**
   * Run when the resource is made: a string runs in `shell` (`shell -c`), a list is a program and its arguments.
   * @change replace
   */
  create: pulumi.Input<GuestCommandLine>;
  /**
   * Run instead of a replace when `create`, `environment`, `stdin` or `shell` change.
   * @change in place
   */
  update?: pulumi.Input<GuestCommandLine>;
  /**
   * Run when the resource is destroyed (skipped when the VM no longer runs).
   * @change in place
   */
  delete?: pulumi.Input<GuestCommandLine>;
  /**
   * Variables for the commands. Always stored as a secret; their values are masked in error messages.
   * @change replace
   */
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Given to the commands on standard input. Always stored as a secret.
   * @change replace
   */
  stdin?: pulumi.Input<string>;
  /**
   * How long a command may run, for example "30s" or "10m"; then it is killed in the guest and the step fails. Default "5m".
   * @change in place
   */
  timeout?: pulumi.Input<string>;
  /**
   * Any values: when one changes, the command is replaced (`delete`, then `create`, run again).
   * @change replace
   */
  triggers?: pulumi.Input<unknown[]>;
  /**
   * The shell of string commands, a path in the guest. Default "/bin/sh".
   * @change replace
   */
  shell?: pulumi.Input<string>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["host", "environment", "stdin", "stdout", "stderr"] as const;

/**
 * Commands run inside a VM's guest through the QEMU guest agent: no guest network, no SSH, no
 * keys. `create` runs once when made; a refresh runs nothing. A non-zero exit fails the step with
 * the VM's name, the exit code and the tail of stderr.
 */
export class GuestCommand extends QemuResource {
  /** What the last command run printed on standard output. Secret when any of its inputs is. */
  declare readonly stdout: pulumi.Output<string>;
  /** What the last command run printed on standard error. Secret when any of its inputs is. */
  declare readonly stderr: pulumi.Output<string>;
  /** The last run's exit code (0: a failure fails the step). */
  declare readonly exitCode: pulumi.Output<number>;

  constructor(name: string, args: GuestCommandArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = withOutputs({
      create: args.create, update: args.update, delete: args.delete, environment: args.environment, stdin: args.stdin,
      timeout: args.timeout, triggers: args.triggers, shell: args.shell,
      ...guestTargetOf(`GuestCommand ${name}`, args.vm),
    }, ["stdout", "stderr", "exitCode"]);
    // In state, what a command printed is always a secret (it may echo one); the outputs here are secret only when an input is.
    super(guestCommandProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "GuestCommand");
    const anySecret = pulumi.all([args.create, args.update, args.delete, args.environment, args.stdin, args.shell]);
    const asInputs = (o: pulumi.Output<string>) => pulumi.all([anySecret, pulumi.unsecret(o)]).apply(([, v]) => v);
    (this as { stdout: pulumi.Output<string> }).stdout = asInputs(this.stdout);
    (this as { stderr: pulumi.Output<string> }).stderr = asInputs(this.stderr);
  }
}

/** @internal The serialized provider (exported for tests). */
export const guestCommandProvider = shimProvider("guestCommand");
