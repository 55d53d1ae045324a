/**
 * A stand-in for a macOS host, since none is reachable here. It is this Linux machine (real sh,
 * real qemu-img, real QEMU under TCG) with two differences, both said where they are used:
 * - the facts script is answered with a macOS fixture (tests/unit/fixtures/hosts, composed
 *   from public recordings, not recorded on a Mac);
 * - no command sees /proc (every "/proc/" path in an argv or a script is rewritten to a
 *   directory that does not exist), so the scripts take the branches they take on macOS: ps
 *   for process state, start time (lstart) and command line;
 * - no flock(1), which macOS does not ship: "command -v flock" asks for a program that does
 *   not exist, so the VM scripts lock with a directory, as on a Mac;
 * - `sysctl -n hw.memsize` answers the Mac's memory (16 GiB, as the fixture says), since a
 *   script without /proc/meminfo asks it, as on a Mac;
 * - no image locks: macOS has no OFD locks, and QEMU there locks no image, so every -drive
 *   gets file.locking=off and qemu-img cannot tell that a running VM holds a disk.
 * The functional probe's hvf run becomes the same probe under TCG (hvf cannot run here).
 */
import { readFileSync } from "fs";
import * as path from "path";
import type { ExecOptions, ExecResult } from "../../provider/transport";
import { RewritingLocalTransport } from "./rewritingTransport";

export const NO_PROC = "/nonexistent-proc-pulumi-qemu/";

export class MacosLikeTransport extends RewritingLocalTransport {
  readonly description = "ops@mac-mini.lab:22 (this machine, /proc hidden)";
  /** Every argv run, after rewriting (for assertions). */
  readonly seen: string[][] = [];

  constructor(private readonly factsFixture: string) {
    super();
  }

  protected rewrite(argv: string[]): string[] {
    if (argv[0] === "sh" && argv[1] === "-c" && argv[3] === "pulumi-qemu-facts") {
      const facts = readFileSync(path.join(__dirname, "../../../tests/unit/fixtures/hosts", this.factsFixture), "utf8");
      return ["sh", "-c", 'cat <<"EOF"\n' + facts + "EOF\n"];
    }
    // hvf and the host CPU exist only on the Mac: the probe runs the same guest under TCG, and
    // the fixture's Homebrew paths become this machine's QEMU (found on PATH).
    const probe = argv.map((a, i) => (argv[i - 1] === "-accel" && a === "hvf" ? "tcg" : argv[i - 1] === "-cpu" && a === "host" ? "max"
      : a.startsWith("/opt/homebrew/bin/") ? path.basename(a) : a));
    return probe.map((a, i) => (probe[i - 1] === "-drive" && a.startsWith("file=") ? `${a},file.locking=off` : a)
      .split("/proc/").join(NO_PROC).split("command -v flock ").join("command -v flock-not-on-macos ")
      .split("sysctl -n hw.memsize").join("echo 17179869184"));
  }

  exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    const real = this.rewrite(argv);
    this.seen.push(real);
    return this.local.exec(real, options);
  }
}
