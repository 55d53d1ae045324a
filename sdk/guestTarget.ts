import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "../provider/transport";
import { stateDirName } from "../provider/layout";
import { placementOf } from "./hostId";
import type { Vm } from "./vm";

/** The inputs that name a resource's VM (provider/resources/guestTarget.ts): its host (secret), its state directory, its name there. */
export function guestTargetOf(resource: string, vm: Vm | undefined) {
  if (!vm) throw new Error(`${resource}: vm: must be a Vm`);
  const { host, hostId } = placementOf(vm);
  return {
    host: pulumi.secret(host as pulumi.Input<Connection>), ...(hostId ? { hostId } : {}),
    stateDir: vm.stateDir, vm: vm.stateDir.apply(stateDirName),
  };
}
