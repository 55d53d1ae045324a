/**
 * How a functional probe runs on a POSIX host. A KVM internal error stops the guest but not QEMU
 * (it stays alive, burning a core), so the runner watches QEMU's run-state trace and ends it as
 * soon as the guest is stopped for good, instead of waiting for a timeout; and it ends a probe
 * that hangs after PROBE_RUN_LIMIT_S. It exits with QEMU's status, or 124 when it ended a hang.
 * (Windows hosts run the probe bare: the exec timeout ends it.)
 */
import { GUEST_STOPPED_RUN_STATES } from "../../qemu/runStates";
import { POSIX_QEMU_PATH } from "../../transport/hostFiles";

export const PROBE_RUN_LIMIT_S = 10;
export const PROBE_HUNG_EXIT = 124;
export const PROBE_HUNG_LINE = `pulumi-qemu: the probe guest did not finish within ${PROBE_RUN_LIMIT_S} s`;

const SCRIPT = String.raw`
err="$1/probe-$$.stderr"; shift
: > "$err" || exit 70
PATH="$PATH:${POSIX_QEMU_PATH}" "$@" </dev/null 2>"$err" &
qemu=$!
ticks=0; ended=
while kill -0 "$qemu" 2>/dev/null; do
  while IFS= read -r line; do
    case "$line" in ${GUEST_STOPPED_RUN_STATES.map((s) => `*runstate_set*"(${s})"*`).join("|")}) ended=stopped ;; esac
  done < "$err"
  [ -z "$ended" ] && [ "$ticks" -ge ${PROBE_RUN_LIMIT_S * 20} ] && ended=hung
  if [ -n "$ended" ]; then kill -KILL "$qemu" 2>/dev/null; break; fi
  ticks=$((ticks + 1))
  sleep 0.05
done
wait "$qemu" 2>/dev/null; rc=$?
cat "$err" >&2; rm -f -- "$err"
if [ "$ended" = hung ]; then echo "${PROBE_HUNG_LINE}" >&2; exit ${PROBE_HUNG_EXIT}; fi
exit "$rc"
`;

/** argv that runs a probe's QEMU argv under the runner; `dir` holds its stderr while it runs. */
export function probeRunnerArgv(dir: string, qemuArgv: string[]): string[] {
  return ["sh", "-c", SCRIPT, "pulumi-qemu-probe", dir, ...qemuArgv];
}

/** Whether the runner ended the probe because it hung. */
export function probeHung(exitCode: number | null, stderr: string): boolean {
  return exitCode === PROBE_HUNG_EXIT && stderr.includes(PROBE_HUNG_LINE);
}
