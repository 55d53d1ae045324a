/** When a failed start moves a VM to its next accelerator: QEMU's real messages (QEMU 7.2, this machine and the recording). */
import * as assert from "assert";
import { GuestPanicError, GuestStoppedError, NotReadyError, QemuError, QemuStartError } from "../../provider/errors";
import { acceleratorFailure, describeFailure } from "../../provider/vm/acceleratorFallback";

const started = (said: string) => new QemuStartError(`local: QEMU did not start VM web: ${said}`, said);

describe("acceleratorFailure", () => {
  const table: Array<[string, string, unknown, string | undefined]> = [
    ["no /dev/kvm", "kvm", started("Could not access KVM kernel module: No such file or directory\nqemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory"), "start"],
    ["a /dev/kvm that is not KVM", "kvm", started("kvm version too old\nqemu-system-x86_64: -accel kvm: failed to initialize kvm: Inappropriate ioctl for device"), "start"],
    ["hvf on Linux", "hvf", started("qemu-system-x86_64: -accel hvf: invalid accelerator hvf"), "start"],
    ["haxm is 'hax' to QEMU", "haxm", started("qemu-system-x86_64: -accel hax: invalid accelerator hax"), "start"],
    ["a port in use is the VM's own", "kvm", started("qemu-system-x86_64: -netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22: Could not set up host forwarding rule 'tcp:127.0.0.1:2222-:22'"), undefined],
    ["another accelerator's words do not count", "tcg", started("qemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory"), undefined],
    ["a KVM internal error at run time", "kvm", new GuestStoppedError("stopped", "internal-error", "KVM internal error. Suberror: 1\nemulation failure"), "run"],
    ["a panic at run time", "kvm", new GuestStoppedError("stopped", "guest-panicked", ""), "run"],
    ["an I/O error is the disk's, not the accelerator's", "kvm", new GuestStoppedError("stopped", "io-error", ""), undefined],
    ["never ready (kvm_pvm on AMD hangs the guest)", "kvm", new NotReadyError("not ready", "serial log pattern /READY/", 20000), "ready"],
    ["a kernel panic on the serial console (maybe the guest's own): judged as not ready", "kvm", new GuestPanicError("panicked", "Kernel panic - not syncing: VFS: Unable to mount root fs"), "ready"],
    ["a transport timeout is not a readiness timeout", "kvm", new QemuError("TIMEOUT", "did not finish within 180000 ms"), undefined],
    ["anything else", "kvm", new Error("boom"), undefined],
  ];
  for (const [what, accelerator, error, stage] of table) {
    it(`${what}: ${stage ?? "no fallback"}`, () => assert.strictEqual(acceleratorFailure(accelerator, error)?.stage, stage));
  }

  it("says what failed in QEMU's words, on one line", () => {
    const run = acceleratorFailure("kvm", new GuestStoppedError("x", "internal-error", "KVM internal error. Suberror: 1\nemulation failure"))!;
    assert.strictEqual(describeFailure(run), "the guest stopped under kvm at run time (run state internal-error: KVM internal error. Suberror: 1 emulation failure)");
    const ready = acceleratorFailure("kvm", new NotReadyError("x", "guest port 22 (host port 2222)", 20000))!;
    assert.strictEqual(describeFailure(ready), "the guest did not get ready under kvm (waited 20000 ms for guest port 22 (host port 2222))");
    const panic = acceleratorFailure("tcg", new GuestPanicError("x", "Kernel panic - not syncing: IO-APIC + timer doesn't work!"))!;
    assert.strictEqual(describeFailure(panic), "the guest did not get ready under tcg (its kernel panicked before it was ready: Kernel panic - not syncing: IO-APIC + timer doesn't work!)");
    const init = acceleratorFailure("hvf", started("qemu-system-x86_64: -accel hvf: invalid accelerator hvf"))!;
    assert.strictEqual(describeFailure(init), "QEMU could not start it under hvf: qemu-system-x86_64: -accel hvf: invalid accelerator hvf");
  });
});
