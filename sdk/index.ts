/** pulumi-qemu: QEMU virtual machines on hosts reached over SSH or on the local machine. */
export { Host, type HostArgs, type Connection, type SshHop, type QemuBinary } from "./host";
export { HostCapabilities, type HostCapabilitiesArgs, type AcceleratorName, type AcceleratorReport } from "./hostCapabilities";
export { Disk, type DiskArgs } from "./disk";
export { Image, type ImageArgs } from "./image";
export { Vm, type VmArgs, type DiskAttachment, type NetworkSpec, type PortForward, type ReadinessSpec, type StopTimeouts, type GuestConnection, type GuestInterface, type RunState } from "./vm";
export { Network, type NetworkArgs, type NetworkAttachment, type NetworkHost, type SwitchStatus } from "./network";
export { Snapshot, type SnapshotArgs } from "./snapshot";
export { Fleet, type FleetArgs, type FleetImageSource, type FleetSnapshot, type FleetTemplate, type FleetMember, type Placement, type PortRange } from "./fleet";
export { GuestCommand, type GuestCommandArgs, type GuestCommandLine } from "./guestCommand";
export { GuestFile, type GuestFileArgs } from "./guestFile";
export { WarmState, type WarmStateArgs } from "./warmState";
