export const ACCELERATOR_NAMES = ["kvm", "hvf", "whpx", "haxm", "aehd", "tcg"] as const;
export type AcceleratorName = (typeof ACCELERATOR_NAMES)[number];

export interface AcceleratorReport {
  name: AcceleratorName;
  /** The hypervisor exists on the host (device, sysctl, Windows feature or service). */
  present: boolean;
  /** The SSH user may use it. */
  accessible: boolean;
  /** The host's QEMU lists it in `-accel help`. */
  qemuSupports: boolean;
  /** A probe guest ran to 64-bit long mode under it. */
  usable: boolean;
  /** Why it is not usable, and what to do; empty when usable. */
  reason: string;
  deprecated: boolean;
  notes: string[];
  /** Lower is preferred. */
  rank: number;
}

export const RANK: Record<AcceleratorName, number> = { kvm: 1, hvf: 1, whpx: 2, aehd: 2, haxm: 3, tcg: 4 };

/**
 * The name QEMU gives each API in `-accel` and `-accel help`: HAXM is "hax" there, and Google's
 * AEHD fork calls it "aehd" (its older GVM builds: "gvm").
 */
export const QEMU_ACCEL_NAME: Record<AcceleratorName, string> = { kvm: "kvm", hvf: "hvf", whpx: "whpx", haxm: "hax", aehd: "aehd", tcg: "tcg" };

/** Every name of an API as `-accel help` may list it. */
export function qemuAccelNames(name: AcceleratorName): string[] {
  return name === "aehd" ? ["aehd", "gvm"] : [QEMU_ACCEL_NAME[name]];
}
