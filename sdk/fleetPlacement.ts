import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { FleetHostCapacity, MemberNeeds, Placement, Seat } from "../provider/fleet/placement";
import { memberHostKey } from "../provider/resources/fleetPlacement";
import { shimProvider, withOutputs } from "./shim";

export interface FleetPlacementArgs {
  /** The Fleet's name, for messages. */
  fleet: string;
  /** The members, in order. */
  names: string[];
  /** The hosts' keys, in order. */
  hostKeys: string[];
  /** Each host's key and what it has (cores, memory, usable accelerators), in the same order. */
  hosts: pulumi.Input<FleetHostCapacity>[];
  /** What each member needs. */
  needs: MemberNeeds;
  /** How new members are placed: "spread" or "pack". */
  placement: Placement;
  /** Member name -> host key: a member put on that host on purpose (its disk is made anew there). */
  pin?: Record<string, string>;
  /** Place every member again, as for a new fleet (members may move; their disks are made anew). */
  rebalance?: boolean;
}

/**
 * Where a Fleet's members run, kept in the stack's state: a member stays on its host until a pin,
 * a rebalance or its host's removal moves it, and the preview names each move. Made by Fleet.
 */
export class FleetPlacement extends QemuResource {
  /** Member name -> its host key and slot (the slot picks its default private address and range ports). */
  declare readonly seats: pulumi.Output<Record<string, Seat>>;
  /** Member name -> its slot. */
  declare readonly slots: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: FleetPlacementArgs, opts?: pulumi.CustomResourceOptions) {
    super(fleetPlacementProvider, name, withOutputs(args, ["seats", "slots", "moves", ...args.names.map(memberHostKey)]), opts, "qemu", "FleetPlacement");
  }

  /** The member's host key: known in a preview while only other, new members wait for hosts' figures. */
  hostOf(member: string): pulumi.Output<string> {
    return (this as unknown as Record<string, pulumi.Output<string>>)[memberHostKey(member)];
  }
}

/** @internal The serialized provider (exported for tests). */
export const fleetPlacementProvider = shimProvider("fleetPlacement");
