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
