/**
 * The smallest real guest: a 512-byte boot sector that disables interrupts and halts, so the
 * VM runs with an idle CPU and no network. For tests and benchmarks that start many VMs.
 */
import type { Connection } from "../../provider/transport";
import type { VmInputs } from "../../provider/vm/spec";

/** cli; hlt; jmp back to hlt; then the boot signature. */
export function haltBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  Buffer.from([0xfa, 0xf4, 0xeb, 0xfd]).copy(sector, 0);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export function haltingVm(host: Connection, name: string, imagePath: string): VmInputs {
  return {
    host, name, memory: "32M", accelerator: "tcg", machine: "pc", networks: [],
    disks: [{ path: imagePath, format: "raw", interface: "virtio", readOnly: true }],
    stopTimeouts: { powerdownMs: 200, quitMs: 3000 },
  };
}
