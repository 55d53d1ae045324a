/** pulumi-qemu: QEMU virtual machines on hosts reached over SSH or on the local machine. */
export { Host, type HostArgs, type Connection, type SshHop, type QemuBinary } from "./host";
export { HostCapabilities, type HostCapabilitiesArgs, type AcceleratorName, type AcceleratorReport } from "./hostCapabilities";
