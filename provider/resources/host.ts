/**
 * Host: how to reach a machine, verified on create (connect with the host key checked, run `sh`,
 * find QEMU) and re-read on refresh. Nothing is created on the host but its working directory,
 * and delete leaves that directory alone: disks may live there.
 */
import { hostOps } from "../platform";
import { sameData } from "../canonical";
import { InvalidArgumentError, QemuError } from "../errors";
import { gatherFacts } from "../host/capabilities";
import type { QemuBinary } from "../host/facts";
import { makeDirectory, SshTransport, transportFor, type Connection, type Endpoint, type Transport } from "../transport";
import type { HostFacts } from "../host/facts";
import { validateSshOptions, type SshOptions } from "../transport/sshOptions";
import { absolutePath, memoryOvercommit } from "../validate";
import { connectionIdentity } from "./connection";
import { configuredCredentials, hostDefaults } from "./stackConfig";
import { collectFailures, throwFailures, plain, type CheckResult, type CreateResult, type Validation, type DiffResult, type ReadResult, recordedProviderChanged } from "./types";

/** The transport's SSH options (`address` for `host`, every one optional), plus the working directory. */
export type HostInputs = Partial<Omit<SshOptions, "host">> & {
  /** Host name or IP address to reach over SSH; absent for the local machine. */
  address?: string;
  /** Absolute directory for disks and VM state; default `$HOME/.pulumi-qemu` on the host. */
  workDir?: string;
  /** How much of the host's memory the running VMs of every stack may take together: 1 (the default) all of it, 1.5 half as much again. */
  memoryOvercommit?: number;
};

export type HostOutputs = HostInputs & {
  /** What Disk, Vm and HostCapabilities take as their `host` input (secret: it holds credentials). */
  connection: Connection;
  /** "local" or "user@address:port". */
  description: string;
  hostKeyFingerprint?: string;
  os: string;
  arch: string;
  kernel: string;
  sshUser: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  qemu: QemuBinary[];
  qemuImg?: string;
  /** The working directory was not given and is the host's default. */
  workDirIsDefault: boolean;
};

const SSH_ONLY = ["platform", "port", "user", "privateKey", "passphrase", "password", "agent", "hostKey", "knownHostsFile",
  "insecureAcceptAnyHostKey", "jumpHosts", "connectTimeoutMs", "keepaliveIntervalMs", "retries", "maxChannels", "idleCloseMs"] as const;

const INPUTS = ["address", ...SSH_ONLY, "workDir", "memoryOvercommit"] as const;
/** Changing one of these points the resource at another machine or directory. */
const IDENTITY = ["address", "port", "user", "workDir"];

/** Only the input properties (old outputs carry computed ones too). */
function inputsOf(props: HostInputs): HostInputs {
  return Object.fromEntries(INPUTS.filter((k) => props[k] !== undefined).map((k) => [k, props[k]])) as HostInputs;
}

/** How the Host's inputs reach it; with its working directory once that is settled, its `connection`. */
function connectionOf(inputs: HostInputs): Endpoint;
function connectionOf(inputs: HostInputs, workDir: string): Connection;
function connectionOf(inputs: HostInputs, workDir?: string): Endpoint {
  const ratio = inputs.memoryOvercommit === undefined ? {} : { memoryOvercommit: inputs.memoryOvercommit };
  if (inputs.address === undefined) return { kind: "local", workDir, ...ratio };
  const { address, workDir: _w, memoryOvercommit: _r, ...ssh } = inputs;
  // The stack's secret credentials serve the stack's host, when the Host brings none of its own.
  const own = ssh.privateKey !== undefined || ssh.password !== undefined || ssh.agent !== undefined;
  const credentials = !own && address === hostDefaults().address ? configuredCredentials() : {};
  return { kind: "ssh", host: address, user: ssh.user ?? "", ...credentials, ...ssh, workDir, ...ratio };
}

/** A Host without `address` takes the stack's default host (`qemu:host`, `qemu:user`, ...). */
function withStackDefaults(inputs: HostInputs): HostInputs {
  return inputs.address !== undefined ? inputs : { ...hostDefaults(), ...inputs };
}

function validations(inputs: HostInputs): Validation[] {
  return [
    [INPUTS.filter((k) => k !== "workDir" && k !== "memoryOvercommit").map((k) => inputs[k]), () => {
      if (inputs.address !== undefined) {
        const { kind: _k, workDir: _w, memoryOvercommit: _r, ...options } = connectionOf(inputs) as Endpoint & { kind: "ssh" };
        validateSshOptions(options);
        return;
      }
      const stray = SSH_ONLY.find((k) => inputs[k] !== undefined);
      if (stray) throw new InvalidArgumentError(stray, "only applies to SSH hosts: set `address` too, or leave it out for the local machine");
    }],
    [[inputs.workDir], () => void (inputs.workDir !== undefined && absolutePath(inputs.workDir, "workDir"))],
    [[inputs.memoryOvercommit], () => void (inputs.memoryOvercommit !== undefined && memoryOvercommit(inputs.memoryOvercommit, "memoryOvercommit"))],
  ];
}

export async function check(_olds: HostInputs, news: HostInputs): Promise<CheckResult<HostInputs>> {
  let inputs: HostInputs;
  try {
    inputs = withStackDefaults(news);
  } catch (e) {
    if (e instanceof InvalidArgumentError) return { failures: [{ property: e.property, reason: e.reason }] };
    throw e;
  }
  const failures = collectFailures(validations(inputs));
  return failures.length ? { failures } : { inputs };
}

export async function diff(_id: string, olds: HostOutputs, news: HostInputs): Promise<DiffResult> {
  const before: HostInputs = { ...inputsOf(olds), workDir: olds.workDirIsDefault ? undefined : olds.workDir };
  const normalPort = (i: HostInputs) => (i.address === undefined ? undefined : i.port ?? 22);
  const changed = INPUTS.filter((k) => k === "port"
    ? normalPort(before) !== normalPort(news)
    : !sameData(before[k], news[k]));
  // Credentials from the stack config are not inputs: a rotated qemu:privateKey shows in the connection.
  const portKnown = (c: Connection) => (c.kind === "ssh" ? { ...c, port: c.port ?? 22 } : c);
  const reachedAnotherWay = olds.connection !== undefined && !sameData(portKnown(olds.connection), portKnown(connectionOf(inputsOf(news), olds.connection.workDir)));
  return { changes: changed.length > 0 || reachedAnotherWay || recordedProviderChanged(olds, news), replaces: changed.filter((k) => IDENTITY.includes(k)) };
}

/** `recorded`: inputs a state recorded (a refresh): not checked again, so a stricter release does not strand them. */
async function inspect(inputs: HostInputs, ensureWorkDir: boolean, recorded = false): Promise<HostOutputs> {
  inputs = inputsOf(inputs);
  if (!recorded) throwFailures(collectFailures(validations(inputs)));
  const transport: Transport = transportFor(connectionOf(inputs));
  const facts = await factsOf(transport);
  if (facts.qemu.length === 0) {
    throw new QemuError("MISSING_TOOL", `${transport.description}: ${hostOps(transport).installQemu}`);
  }
  const workDir = inputs.workDir ?? `${facts.home.replace(/\/$/, "")}/.pulumi-qemu`;
  if (ensureWorkDir) await makeDirectory(transport, workDir, "creating the working directory");
  return plain({
    ...inputs,
    workDir,
    workDirIsDefault: inputs.workDir === undefined,
    connection: connectionOf(inputs, workDir),
    description: transport.description,
    hostKeyFingerprint: transport instanceof SshTransport ? transport.hostKeyFingerprint : undefined,
    os: facts.os, arch: facts.arch, kernel: facts.kernel, sshUser: facts.user, cpuModel: facts.cpuModel,
    cores: facts.cores, memoryBytes: facts.memoryBytes, qemu: facts.qemu, qemuImg: facts.qemuImg,
  });
}

/** The facts; a Windows host declared without `platform: "windows"` gets told so instead of a shell error. */
async function factsOf(transport: Transport): Promise<HostFacts> {
  try {
    return await gatherFacts(transport, "");
  } catch (e) {
    const misdeclared = hostOps(transport).misdeclared((e as Error).message);
    if (misdeclared) throw new InvalidArgumentError("platform", `${transport.description} has no ${hostOps(transport).shell}: ${misdeclared}`);
    throw e;
  }
}

export async function create(inputs: HostInputs): Promise<CreateResult<HostOutputs>> {
  const outs = await inspect(inputs, true);
  return { id: connectionIdentity(outs.connection), outs };
}

/** Refresh: the host is reached again and its facts re-read; an unreachable host fails the refresh. */
export async function read(id: string, props: HostOutputs): Promise<ReadResult<HostOutputs>> {
  const requested = { ...inputsOf(props), workDir: props.workDirIsDefault ? undefined : props.workDir };
  return { id, props: await inspect(requested, false, true) };
}

export async function update(_id: string, _olds: HostOutputs, news: HostInputs): Promise<{ outs: HostOutputs }> {
  return { outs: await inspect(news, true) };
}

export async function remove(): Promise<void> {
  // The working directory stays: disks may live there, and they are their own resources.
}
