/**
 * TEST DOUBLE of a host whose KVM passes the functional probe but stops standard guests at run
 * time (as kvm_pvm stopped the recorded Linux guest): this machine, with three differences, for
 * the machines that have no such KVM (and the ones whose lying KVM the probe already catches):
 * - the facts script's answer says /dev/kvm is there, read-write, served by kvm_intel, with vmx;
 * - the functional probe's kvm run is the same probe under TCG (it passes, as it would there);
 * - a VM started with `-accel kvm` runs tests/helpers/lyingKvmQemu (the recording's behaviour)
 *   instead of QEMU. Everything else is real: sh, the provider's scripts, QEMU under TCG.
 */
import * as path from "path";
import type { ExecOptions, ExecResult } from "../../provider/transport";
import { RewritingLocalTransport } from "./rewritingTransport";

const DOUBLE = path.join(__dirname, "lyingKvmQemu.js");

export class LyingKvmTransport extends RewritingLocalTransport {
  readonly description = "lying-kvm.lab (this machine, kvm replaced by a test double)";
  /** When each start under each accelerator was sent, for timing the fallback. */
  readonly starts: Array<{ accelerator: string; at: number }> = [];

  /** How often the facts script ran (issue 17: once per operation). */
  factsRuns = 0;

  /** `report`: the file the double appends its failure times to. */
  constructor(private readonly report: string, private readonly failAfterMs = 1500) {
    super();
  }

  protected rewrite(argv: string[]): string[] {
    const role = argv[0] === "sh" && argv[1] === "-c" ? argv[3] : undefined;
    const kvmAt = argv.findIndex((a, i) => argv[i - 1] === "-accel" && a === "kvm");
    if (kvmAt < 0) return argv;
    if (role === "pulumi-qemu-probe-runner") return argv.map((a, i) => (i === kvmAt ? "tcg" : a));
    if (role === "pulumi-qemu-vm-start") {
      const qemuAt = argv.findIndex((a, i) => i > 3 && /(^|\/)qemu-system-x86_64$/.test(a));
      return [...argv.slice(0, qemuAt), "env", `LYING_KVM_REPORT=${this.report}`, `LYING_KVM_FAIL_AFTER_MS=${this.failAfterMs}`,
        process.execPath, DOUBLE, ...argv.slice(qemuAt + 1)];
    }
    return argv;
  }

  /** The real facts, with this machine's KVM lines replaced by a hardware KVM's. */
  private static facts(stdout: string): string {
    const lines = stdout.split("\n").filter((l) => !/^(kvm_device|kvm_access|kvm_owner|kernel_module|cpu_virt_flags)=/.test(l))
      .map((l) => l.replace(/^(qemu\.qemu-system-x86_64\.accel=).*/, "$1tcg kvm "));
    return [...lines, "kvm_device=present", "kvm_access=rw", "kvm_owner=root:kvm 660", "kernel_module=kvm", "kernel_module=kvm_intel", "cpu_virt_flags=vmx "].join("\n");
  }

  async exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    if (argv[3] === "pulumi-qemu-facts") {
      this.factsRuns++;
      const real = await this.local.exec(argv, options);
      return { ...real, stdout: LyingKvmTransport.facts(real.stdout) };
    }
    if (argv[3] === "pulumi-qemu-vm-start") {
      const accel = argv.find((a, i) => argv[i - 1] === "-accel");
      if (accel && argv.includes("-pidfile")) this.starts.push({ accelerator: accel, at: Date.now() });
    }
    return super.exec(argv, options);
  }
}
