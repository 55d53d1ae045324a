/**
 * Through the real CLI: an accelerator list on this machine's own KVM (the CLI output says what
 * failed and what runs instead), and a failed `up` that leaves nothing for `destroy` to find.
 */
import * as assert from "assert";
import * as path from "path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { Host, Vm } from "../../sdk";
import { kvmKind } from "../helpers/machine";
import { liveQemuPids } from "../helpers/processes";
import { vmStateDirs } from "../helpers/stateDirs";
import { capture, withStack } from "./harness";
import { GUEST_APPEND } from "../testbed/testbed";
import { firstForwardPort } from "../helpers/ports";
import { skipBecause } from "../helpers/skip";

const GUEST = path.join(process.env.HOME ?? "/root", ".cache/pulumi-qemu/guest");
const READY = "PULUMI-QEMU-GUEST-READY";

describe("e2e: accelerator fallback and a failed up (real CLI, real QEMU on this machine)", function () {
  this.timeout(10 * 60 * 1000);

  const program = (workDir: string, name: string, accelerator: string | string[], serialPattern: string, timeoutMs: number, port: number) => async () => {
    const host = new Host("local", { workDir });
    const vm = new Vm(name, {
      host: host.connection, memory: "256M", accelerator,
      kernel: `${GUEST}/vmlinuz`, initrd: `${GUEST}/initramfs.gz`, append: GUEST_APPEND,
      ports: [{ host: port, guest: 22 }], readiness: { serialPattern, guestPort: 22, timeoutMs }, stopTimeouts: { powerdownMs: 1000 },
    });
    return { acceleratorInUse: vm.acceleratorInUse, acceleratorFallbacks: vm.acceleratorFallbacks };
  };

  it(`["kvm", "tcg"] on this machine (kvm: ${kvmKind()}): runs where it can, and the CLI output says why`, async function () {
    const kind = kvmKind();
    if (kind === "unknown") skipBecause(this, "/dev/kvm is served by a module these tests do not know: no truth to compare with");
    let current: PulumiFn = async () => undefined;
    await withStack("fallback", () => current(), async (h) => {
      const workDir = path.join(h.dir, "host");
      current = program(workDir, "fb", ["kvm", "tcg"], READY, 20000, firstForwardPort());
      const up = await h.stack.up(capture(h));
      assert.strictEqual(up.outputs.acceleratorInUse.value, kind === "hardware" ? "kvm" : "tcg");
      if (kind !== "hardware") {
        assert.match(h.output(), /pulumi-qemu: VM fb: (QEMU could not start it under kvm|the guest stopped under kvm at run time|the guest did not get ready under kvm)[^\n]*; falling back to tcg/);
        assert.match(h.output(), /pulumi-qemu: VM fb: ready under tcg/);
      }
      await h.stack.destroy(capture(h));
      assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
    });
  });

  it("a failed up (never ready) leaves no QEMU and no state directory; destroy finds nothing of the VM", async () => {
    let current: PulumiFn = async () => undefined;
    await withStack("failedup", () => current(), async (h) => {
      const workDir = path.join(h.dir, "host");
      current = program(workDir, "never", "tcg", "NEVER-PRINTED", 4000, firstForwardPort());
      await assert.rejects(h.stack.up(capture(h)));
      assert.match(h.output(), /VM never did not run under tcg: the guest did not get ready under tcg/);
      assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), [], "a QEMU of the failed up still runs");
      assert.deepStrictEqual(await vmStateDirs(workDir, "never"), [], "the failed create left its state directory");
      const destroyed = await h.stack.destroy(capture(h));
      assert.deepStrictEqual(destroyed.summary.resourceChanges, { delete: 2 }, "the stack and the Host; the Vm was never created");
      assert.doesNotMatch(h.output(), /qemu:Vm never delet/);
      assert.deepStrictEqual(liveQemuPids(`-pidfile ${workDir}/`), []);
    });
  });
});
