/**
 * GuestCommand: commands run inside a VM's guest through its QEMU guest agent (no guest network,
 * no SSH): `create` when made, `update` when its inputs change (else it is replaced), `delete`
 * when destroyed. A refresh runs nothing. A non-zero exit fails the step with the exit code and
 * the tail of stderr, with the values of `environment` and `stdin` masked.
 */
import { InvalidArgumentError, QemuError, tail } from "../errors";
import { sameData } from "../canonical";
import { durationMs } from "../validate";
import { guestExec, withVmGuestAgent, type GuestExecResult } from "../vm/guestAgent";
import type { VmHandle } from "../vm/handle";
import { progress } from "../progress";
import { hostInDiff } from "./connection";
import { agentReachable, requireRunning, targetHandle, targetId, targetValidations, type GuestTargetInputs } from "./guestTarget";
import { collectFailures, plain, recordedProviderChanged, throwFailures, type CheckResult, type CreateResult, type DiffResult, type ReadResult, type Validation } from "./types";

/** A command: a string runs in the guest's shell (`shell -c`), a list is a program and its arguments. */
export type GuestCommandLine = string | string[];

export interface GuestCommandInputs extends GuestTargetInputs {
  create: GuestCommandLine;
  update?: GuestCommandLine;
  delete?: GuestCommandLine;
  environment?: Record<string, string>;
  stdin?: string;
  /** Default "5m": then the command is killed in the guest and the step fails. */
  timeout?: string;
  /** Any values; a change replaces the command (runs `delete`, then `create` again). */
  triggers?: unknown[];
  /** The shell of string commands. Default "/bin/sh". */
  shell?: string;
}

export interface GuestCommandOutputs extends GuestCommandInputs {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function commandLine(value: unknown, property: string, required: boolean): void {
  if (value === undefined && !required) return;
  const ok = (typeof value === "string" && value.trim() !== "")
    || (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === "string") && (value[0] as string) !== "");
  if (!ok) throw new InvalidArgumentError(property, `must be a shell command (a non-empty string) or a program and its arguments (a non-empty list of strings), got ${JSON.stringify(value)}`);
}

function validations(i: GuestCommandInputs): Validation[] {
  return [
    ...targetValidations(i),
    [[i.create], () => commandLine(i.create, "create", true)],
    [[i.update], () => commandLine(i.update, "update", false)],
    [[i.delete], () => commandLine(i.delete, "delete", false)],
    [[i.environment], () => {
      if (i.environment === undefined) return;
      if (typeof i.environment !== "object" || i.environment === null || Array.isArray(i.environment)) throw new InvalidArgumentError("environment", "must be a map of names to string values");
      for (const [k, v] of Object.entries(i.environment)) {
        if (!ENV_NAME.test(k)) throw new InvalidArgumentError(`environment.${k}`, "is not a variable name (letters, digits and _, not starting with a digit)");
        if (typeof v !== "string") throw new InvalidArgumentError(`environment.${k}`, "must be a string");
      }
    }],
    [[i.stdin], () => { if (i.stdin !== undefined && typeof i.stdin !== "string") throw new InvalidArgumentError("stdin", "must be a string"); }],
    [[i.timeout], () => void (i.timeout !== undefined && durationMs(i.timeout, "timeout"))],
    [[i.shell], () => {
      if (i.shell !== undefined && (typeof i.shell !== "string" || !i.shell.startsWith("/"))) throw new InvalidArgumentError("shell", `must be an absolute path in the guest, got ${JSON.stringify(i.shell)}`);
    }],
    [[i.triggers], () => { if (i.triggers !== undefined && !Array.isArray(i.triggers)) throw new InvalidArgumentError("triggers", "must be a list"); }],
  ];
}

export async function check(_olds: unknown, news: GuestCommandInputs): Promise<CheckResult<GuestCommandInputs>> {
  const failures = collectFailures(validations(news));
  return failures.length ? { failures } : { inputs: news };
}

/** What runs the command's input: `update` runs in place when given, else a change replaces. */
const RUN_INPUTS = ["create", "environment", "stdin", "shell"] as const;

export async function diff(_id: string, olds: GuestCommandOutputs, given: GuestCommandInputs): Promise<DiffResult> {
  const host = hostInDiff(olds.host, given.host, given.hostId);
  const news = { ...given, host: host.host };
  const same = (k: keyof GuestCommandInputs) => sameData(olds[k] ?? null, news[k] ?? null);
  const rerun = RUN_INPUTS.filter((k) => !same(k));
  const replaces = [
    host.replaced ? "host" : "", !same("stateDir") || !same("vm") ? "vm" : "", !same("triggers") ? "triggers" : "",
    ...(news.update === undefined ? rerun : []),
  ].filter(Boolean);
  const changes = replaces.length > 0 || rerun.length > 0 || !(["update", "delete", "timeout"] as const).every(same) || host.credentials;
  return { changes: changes || recordedProviderChanged(olds, news), replaces };
}

function argvOf(line: GuestCommandLine, shell: string | undefined): string[] {
  return typeof line === "string" ? [shell ?? "/bin/sh", "-c", line] : line;
}

/** The secret values a message must not show: environment values and stdin, 4 characters or more. */
function masked(text: string, i: GuestCommandInputs): string {
  const secrets = [...Object.values(i.environment ?? {}), ...(i.stdin !== undefined ? [i.stdin.trim()] : [])].filter((v) => v.length >= 4);
  return secrets.sort((a, b) => b.length - a.length).reduce((t, s) => t.split(s).join("[secret]"), text);
}

async function run(handle: VmHandle, i: GuestCommandInputs, which: "create" | "update" | "delete"): Promise<GuestExecResult> {
  const line = i[which]!;
  const timeoutMs = i.timeout !== undefined ? durationMs(i.timeout, "timeout") : 300000;
  const env = Object.entries(i.environment ?? {}).map(([k, v]) => `${k}=${v}`);
  progress(`VM ${i.vm}: running the ${which} command through its guest agent`);
  const r = await withVmGuestAgent(handle, 10000, (agent) => guestExec(agent, { argv: argvOf(line, i.shell), env, stdin: i.stdin, timeoutMs }));
  if (r.timedOut || r.exitCode !== 0) {
    const how = r.timedOut ? `did not finish within ${timeoutMs} ms and was killed` : r.signal !== undefined ? `was killed by signal ${r.signal}` : `exited with code ${r.exitCode}`;
    const stderr = masked(tail(r.stderr.trim(), 1000), i);
    throw new QemuError("COMMAND_FAILED", `${handle.transport.description}: VM ${i.vm}: the ${which} command ${how}${stderr ? `; stderr ends with:\n${stderr}` : " (no stderr)"}`);
  }
  return r;
}

function outputsOf(i: GuestCommandInputs, r: GuestExecResult): GuestCommandOutputs {
  return plain({ ...i, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode });
}

export async function create(i: GuestCommandInputs): Promise<CreateResult<GuestCommandOutputs>> {
  throwFailures(collectFailures(validations(i)));
  const handle = targetHandle(i);
  await requireRunning(handle, i.vm);
  const r = await run(handle, i, "create");
  return { id: targetId(i, "guest-command", Date.now().toString(36)), outs: outputsOf(i, r) };
}

/** A refresh runs nothing: what the last run printed stays. */
export async function read(id: string, props: GuestCommandOutputs): Promise<ReadResult<GuestCommandOutputs>> {
  return { id, props };
}

export async function update(_id: string, olds: GuestCommandOutputs, i: GuestCommandInputs): Promise<{ outs: GuestCommandOutputs }> {
  throwFailures(collectFailures(validations(i)));
  const handle = targetHandle(i);
  await requireRunning(handle, i.vm);
  // Only a change that needs no rerun reaches here without `update` (delete, timeout): nothing runs.
  if (i.update === undefined) return { outs: { ...olds, ...plain(i) } };
  return { outs: outputsOf(i, await run(handle, i, "update")) };
}

export async function remove(_id: string, props: GuestCommandOutputs): Promise<void> {
  if (props.delete === undefined) return;
  const handle = targetHandle(props);
  if (!(await agentReachable(handle))) {
    progress(`VM ${props.vm}: not running with its guest agent: its delete command was not run`);
    return;
  }
  await run(handle, props, "delete");
}
