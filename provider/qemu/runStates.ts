/**
 * QEMU's run states in which the guest has stopped for good while QEMU itself lives on (a KVM
 * internal error, a panic reported through pvpanic): nothing but stopping QEMU ends them.
 */
export const GUEST_STOPPED_RUN_STATES = ["internal-error", "guest-panicked"] as const;
