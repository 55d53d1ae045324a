/** A VM on a host as every VM operation names it. */
import type { VmLayout } from "../layout";
import type { Transport } from "../transport";

/**
 * The connection to the VM's host, its state directory's files, and the name QEMU knows it by
 * (`-name guest=`, the identity its scripts check): the state directory's name unless told (a
 * network's switch has a name of its own).
 */
export interface VmHandle {
  transport: Transport;
  layout: VmLayout;
  name: string;
}

export function vmHandle(transport: Transport, layout: VmLayout, name = layout.name): VmHandle {
  return { transport, layout, name };
}
