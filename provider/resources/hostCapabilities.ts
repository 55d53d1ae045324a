/**
 * HostCapabilities: the host's capability report as a resource. Create and every refresh run the
 * facts script and judge each accelerator again (the functional probe result is cached on the
 * host by QEMU version and kernel, unless `reprobe` is set); nothing else is left on the host.
 */
import { probeHost, type CapabilityReport } from "../host/capabilities";
import { normalizeArch } from "../host/facts";
import { transportFor, validateConnection, type Connection } from "../transport";
import { InvalidArgumentError } from "../errors";
import { booleanInput } from "../validate";
import { connectionIdentity, hostInDiff } from "./connection";
import { collectFailures, throwFailures, plain, type CheckResult, type CreateResult, type Validation, type DiffResult, type ReadResult, recordedProviderChanged } from "./types";

export interface HostCapabilitiesInputs {
  host: Connection;
  /** The id of the Host whose `connection` is `host`, passed by the SDK: known in a preview while the connection is not. */
  hostId?: string;
  /** Architecture of the guests to judge for (QEMU's name, e.g. x86_64, aarch64); default the host's. */
  guestArch?: string;
  /** Run the functional probe again on every create and refresh instead of trusting the host's cache. */
  reprobe?: boolean;
}

export type HostCapabilitiesOutputs = HostCapabilitiesInputs & Omit<CapabilityReport, "host"> & { hostFacts: CapabilityReport["host"] };

function validations(inputs: HostCapabilitiesInputs): Validation[] {
  return [
    [[inputs.host], () => void validateConnection(inputs.host, "host")],
    [[inputs.reprobe], () => void booleanInput(inputs.reprobe, "reprobe")],
    [[inputs.guestArch], () => {
      if (inputs.guestArch !== undefined && !/^[a-z0-9_]{1,32}$/.test(String(inputs.guestArch))) {
        throw new InvalidArgumentError("guestArch", `must be a QEMU architecture name such as x86_64 or aarch64, got ${JSON.stringify(inputs.guestArch)}`);
      }
    }],
  ];
}

export async function check(_olds: unknown, news: HostCapabilitiesInputs): Promise<CheckResult<HostCapabilitiesInputs>> {
  const failures = collectFailures(validations(news));
  return failures.length ? { failures } : { inputs: news };
}

export async function diff(_id: string, olds: HostCapabilitiesOutputs, news: HostCapabilitiesInputs): Promise<DiffResult> {
  const host = hostInDiff(olds.host, news.host, news.hostId);
  const changed = [
    host.replaced ? "host" : "",
    normalizeArch(news.guestArch ?? olds.hostFacts.arch) !== olds.guestArch ? "guestArch" : "",
    Boolean(olds.reprobe) !== Boolean(news.reprobe) ? "reprobe" : "",
    host.credentials ? "host" : "",
  ].filter(Boolean);
  return { changes: changed.length > 0 || recordedProviderChanged(olds, news), replaces: [] };
}

/** `recorded`: inputs a state recorded (a refresh): not checked again, so a stricter release does not strand them. */
async function report(inputs: HostCapabilitiesInputs, recorded = false): Promise<HostCapabilitiesOutputs> {
  if (!recorded) throwFailures(collectFailures(validations(inputs)));
  const { host, ...rest } = await probeHost(transportFor(inputs.host), {
    workDir: inputs.host.workDir, guestArch: inputs.guestArch, reprobe: inputs.reprobe,
  });
  return plain({ host: inputs.host, reprobe: inputs.reprobe, ...rest, hostFacts: host });
}

export async function create(inputs: HostCapabilitiesInputs): Promise<CreateResult<HostCapabilitiesOutputs>> {
  return { id: `${connectionIdentity(inputs.host)}#capabilities`, outs: await report(inputs) };
}

export async function read(id: string, props: HostCapabilitiesOutputs): Promise<ReadResult<HostCapabilitiesOutputs>> {
  return { id, props: await report({ host: props.host, guestArch: props.guestArch, reprobe: props.reprobe }, true) };
}

export async function update(_id: string, _olds: HostCapabilitiesOutputs, news: HostCapabilitiesInputs): Promise<{ outs: HostCapabilitiesOutputs }> {
  return { outs: await report(news) };
}

export async function remove(): Promise<void> {
  // The probe cache stays in the host's working directory: it is shared by every report of that host.
}
