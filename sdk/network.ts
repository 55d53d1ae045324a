import * as pulumi from "@pulumi/pulumi";
import { QemuResource } from "./resourceBase";
import type { NetworkHostInput, SwitchStatus } from "../provider/resources/network";
import { hostIdOf } from "./hostId";
import type { Host } from "./host";
import { ownerLabel } from "./ownerLabel";
import { shimProvider, withOutputs } from "./shim";

export type { SwitchStatus };

/** A host of a Network: a Host, or a Host with the address the network's other hosts reach it at. */
export type NetworkHost = Host | { host: Host; address?: pulumi.Input<string> };

export interface NetworkArgs {
  /**
   * IPv4 subnet of the members' addresses, e.g. "10.77.0.0/24". Changing it replaces the network.
   * @change replace
   */
  subnet: pulumi.Input<string>;
  /**
   * The hosts it spans; the first is the centre of the links between hosts. With more than one,
   * each needs an address the others reach it at (default: the Host's, when it is an IPv4 address).
   * @change in place
   */
  hosts: NetworkHost[];
  /**
   * UDP port of the links between hosts: the first host uses port+1 ... port+n-1, every other
   * host `port`. Default: each host gives free ports from its ledger (shared by every stack of the
   * SSH user), kept in `linkPorts`, so the same program's networks run side by side.
   * @change in place
   */
  port?: pulumi.Input<number>;
  /**
   * The network's name; on the hosts its switches' directories are `<workDir>/networks/<name>.<TAG>` (TAG per owner). Default: the resource's name.
   * @change replace
   */
  name?: pulumi.Input<string>;
}

/** What a Vm's `networks` takes to join a Network with one address. */
export interface NetworkAttachment {
  type: "private";
  network: pulumi.Input<string>;
  subnet: pulumi.Input<string>;
  address: pulumi.Input<string>;
}

/** The properties kept secret in state (the provider plugin marks them too). */
export const SECRET_OUTPUTS = ["hosts", "ownerToken"] as const;

/**
 * A private layer-2 network for VMs, with no root, bridge, tap or daemon on the hosts: on each
 * host a switch (a QEMU process with no guest, started, refreshed and stopped like a VM) takes its
 * members through private Unix datagram sockets, and the switches of several hosts are linked by
 * UDP. A VM joins with `networks: [..., network.attach("10.77.0.5")]` and keeps its user-mode network.
 */
export class Network extends QemuResource {
  /** The name the program gave it. */
  declare readonly name: pulumi.Output<string>;
  /** Its name on the hosts (`NAME.TAG`, per owner: another stack's network of the same name is another network), what members join. */
  declare readonly hostName: pulumi.Output<string>;
  /** Each host's UDP link ports from its ledger (by host), when `port` is not given. */
  declare readonly linkPorts: pulumi.Output<Record<string, number[]> | undefined>;
  /** The subnet, normalized. */
  declare readonly subnet: pulumi.Output<string>;
  /** The switch on each host: running or stopped, and its PID. */
  declare readonly switches: pulumi.Output<SwitchStatus[]>;
  /** "running" when every switch runs, else "degraded" (the next up restarts the others). */
  declare readonly status: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
    const hosts = args.hosts.map((h) => {
      const { host, address } = "connection" in h ? { host: h, address: undefined } : h;
      return { host: host.connection, ...hostIdOf(host.connection), ...(address !== undefined ? { address } : {}) };
    });
    const owner = ownerLabel(name);
    const inputs = withOutputs({ name: args.name ?? name, subnet: args.subnet, port: args.port, hosts: pulumi.secret(hosts as unknown as pulumi.Input<NetworkHostInput[]>), owner },
      ["hostName", "linkPorts", "switches", "status"]);
    super(networkProvider, name, inputs, { ...opts, additionalSecretOutputs: [...SECRET_OUTPUTS] }, "qemu", "Network");
  }

  /** A `networks` entry of a Vm: this network, with this address from its subnet. */
  attach(address: pulumi.Input<string>): NetworkAttachment {
    // A network an older release made records no hostName until its next update: its name is the one on the hosts.
    const network = pulumi.all([this.hostName, this.name]).apply(([hostName, name]) => hostName ?? name);
    return { type: "private", network, subnet: this.subnet, address };
  }
}

/** @internal The serialized provider (exported for tests). */
export const networkProvider = shimProvider("network");
