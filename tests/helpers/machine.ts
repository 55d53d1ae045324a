/**
 * Which kind of machine the tests run on, told as ../shared/TESTBED.md tells it (the device, the
 * module that serves it, the CPU flags), independently of the code under test. Tests derive what
 * the package must say from this, never from an assumption about the machine.
 */
import { existsSync, readFileSync } from "fs";

export type KvmKind =
  /** No /dev/kvm: kvm absent, tcg usable. */
  | "none"
  /** /dev/kvm served by kvm_pvm: simple code runs, standard Linux guests stop with an emulation failure. */
  | "kvm_pvm"
  /** /dev/kvm served by kvm_intel or kvm_amd with vmx/svm: guests run. */
  | "hardware"
  /** /dev/kvm served by something else: the tests that need to know skip. */
  | "unknown";

export function kvmKind(): KvmKind {
  if (!existsSync("/dev/kvm")) return "none";
  if (existsSync("/sys/module/kvm_intel") || existsSync("/sys/module/kvm_amd")) {
    return /\b(vmx|svm)\b/.test(readFileSync("/proc/cpuinfo", "utf8")) ? "hardware" : "unknown";
  }
  return existsSync("/sys/module/kvm_pvm") ? "kvm_pvm" : "unknown";
}
