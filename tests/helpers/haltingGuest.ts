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

/**
 * A boot sector that triple-faults: it loads an empty real-mode interrupt table and raises int3,
 * so the CPU resets, the BIOS boots it again, and so on: a real reset loop.
 */
export function tripleFaultBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  // cli; xor ax,ax; mov ds,ax; lidt [0x7c10] (six zero bytes at offset 16); int3; hlt
  Buffer.from([0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x0f, 0x01, 0x1e, 0x10, 0x7c, 0xcc, 0xf4]).copy(sector, 0);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}
