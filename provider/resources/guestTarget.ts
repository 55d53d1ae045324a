/** The VM a GuestCommand or GuestFile acts in: its host connection and state directory (a Vm's outputs). */
import { InvalidArgumentError, QemuError } from "../errors";
import { transportFor, validateConnection, type Connection } from "../transport";
import { vmLayoutAt } from "../layout";
import { vmHandle, type VmHandle } from "../vm/handle";
import { observe } from "../vm/observe";
import { connectionIdentity } from "./connection";
import type { Validation } from "./types";

export interface GuestTargetInputs {
  host: Connection;
  /** The id of the Host whose `connection` is `host` (see VmInputs.hostId). */
  hostId?: string;
  /** The Vm's `stateDir`. */
  stateDir: string;
  /** The Vm's name, for messages. */
  vm: string;
}

export function targetValidations(inputs: GuestTargetInputs): Validation[] {
  return [
    [[inputs.host], () => void validateConnection(inputs.host, "host")],
    [[inputs.stateDir], () => {
      if (typeof inputs.stateDir !== "string" || !/^\/.*\/vms\/[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(inputs.stateDir) || inputs.stateDir.split("/").includes("..")) {
        throw new InvalidArgumentError("vm", `must be a Vm (its stateDir is a VM state directory), got stateDir ${JSON.stringify(inputs.stateDir)}`);
      }
    }],
  ];
}

export function targetHandle(inputs: GuestTargetInputs): VmHandle {
  return vmHandle(transportFor(inputs.host), vmLayoutAt(inputs.stateDir));
}

export function targetId(inputs: GuestTargetInputs, kind: string, what: string): string {
  return `${connectionIdentity(inputs.host)}#${kind}:${inputs.vm}:${what}`;
}

/** The VM runs with its agent channel: else a create or update is refused, saying what to do. */
export async function requireRunning(handle: VmHandle, vm: string): Promise<void> {
  const observed = await observe(handle);
  if (observed.state !== "running") {
    throw new QemuError("NOT_FOUND", `${handle.transport.description}: VM ${vm} is ${observed.state} (${observed.detail}): its guest agent cannot be reached; start it (state: "running")`);
  }
  if (!observed.startedSpec?.guestAgent) {
    throw new InvalidArgumentError("vm", `VM ${vm} runs without a guest agent channel: give it guestAgent: true (it restarts), and a guest with qemu-guest-agent`);
  }
}

/** Whether the VM runs with an agent channel now (a delete with nothing to reach skips its guest work). */
export async function agentReachable(handle: VmHandle): Promise<boolean> {
  const observed = await observe(handle);
  return observed.state === "running" && !!observed.startedSpec?.guestAgent;
}
