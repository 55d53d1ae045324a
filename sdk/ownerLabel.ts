import * as pulumi from "@pulumi/pulumi";
import type { OwnerLabel } from "../provider/vm/owner";

/** Who a resource is for people, in the owner records it leaves on a host: this program's project and stack, and its name. */
export function ownerLabel(resource: string): OwnerLabel {
  return { project: pulumi.getProject(), stack: pulumi.getStack(), resource };
}
