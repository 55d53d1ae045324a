/**
 * How a functional probe runs on a POSIX host: provider/scripts/probe-runner.sh, which ends QEMU
 * as soon as the guest is stopped for good (a KVM internal error stops the guest, not QEMU) or
 * after PROBE_RUN_LIMIT_S. (Windows hosts run the probe bare: the exec timeout ends it.)
 */
import { GUEST_STOPPED_RUN_STATES } from "../../qemu/runStates";
import { EXIT, shScriptArgv } from "../../transport/hostScript";

export const PROBE_RUN_LIMIT_S = 10;
export const PROBE_HUNG_LINE = `pulumi-qemu: the probe guest did not finish within ${PROBE_RUN_LIMIT_S} s`;

/** argv that runs a probe's QEMU argv under the runner; `dir` holds its stderr while it runs. */
export function probeRunnerArgv(dir: string, qemuArgv: string[]): string[] {
  return shScriptArgv(["probe-runner.sh"], [dir, ...qemuArgv], {
    STOPPED_STATES: GUEST_STOPPED_RUN_STATES.join(" "), RUN_LIMIT_TICKS: PROBE_RUN_LIMIT_S * 20, HUNG_LINE: PROBE_HUNG_LINE,
  });
}

/** Whether the runner ended the probe because it hung. */
export function probeHung(exitCode: number | null, stderr: string): boolean {
  return exitCode === EXIT.PROBE_HUNG && stderr.includes(PROBE_HUNG_LINE);
}
