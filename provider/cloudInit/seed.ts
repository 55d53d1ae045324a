/**
 * The cloud-init NoCloud seed of a VM: files user-data, meta-data and (optionally)
 * network-config on an ISO 9660 volume labelled "cidata". Pure: inputs in, bytes out.
 * Error messages name the property, never the content (user-data often carries secrets).
 */
import { createHash, createHmac } from "crypto";
import { stringify } from "yaml";
import { InvalidArgumentError } from "../errors";
import { collectInvalid } from "../validate";
import { buildIso } from "./iso9660";

/**
 * cloud-init reads YAML 1.1 (PyYAML): written as 1.2, the strings "yes", "on" and
 * "52:54:00:12:34:56" would reach it as a boolean and a base-60 number. As 1.1 they are quoted.
 */
const yaml11 = (value: unknown) => stringify(value, { version: "1.1" });

export interface CloudInitInputs {
  /**
   * user-data: text as cloud-init reads it (`#cloud-config` YAML, a `#!` script, a MIME
   * multipart...), or an object, written as `#cloud-config` YAML 1.1, as cloud-init reads it
   * (a string such as "yes" or a MAC quoted, so that it stays a string).
   */
  userData?: string | Record<string, unknown>;
  /**
   * meta-data keys. Defaults: `local-hostname` = the VM's name, and `instance-id` = the name plus
   * an HMAC of the seed's content under the VM's secret seed key, so that a changed seed is a new
   * instance to cloud-init.
   */
  metaData?: Record<string, unknown>;
  /** network-config (version 1 or 2), as YAML text or an object. */
  networkConfig?: string | Record<string, unknown>;
}

export interface CloudInitSeed {
  /** The ISO image. */
  image: Buffer;
  /** sha256 of the image: names the seed file and tells the plan when the seed changed. */
  sha256: string;
  instanceId: string;
}

const MAX_BYTES = 16 * 2 ** 20;

function text(value: unknown, property: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(property, `must be a string, got a ${Array.isArray(value) ? "list" : typeof value}`);
  if (Buffer.byteLength(value) > MAX_BYTES) throw new InvalidArgumentError(property, `is ${Buffer.byteLength(value)} bytes; at most ${MAX_BYTES} are allowed`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates the inputs (all failures together) and builds the seed. */
export function cloudInitSeed(inputs: CloudInitInputs, vmName: string, property = "cloudInit", instanceIdKey?: string): { seed?: CloudInitSeed; errors: InvalidArgumentError[] } {
  const errors: InvalidArgumentError[] = [];
  const e = <T>(f: () => T) => collectInvalid(errors, f);
  if (!isObject(inputs)) return { errors: [new InvalidArgumentError(property, "must be an object with userData, metaData and/or networkConfig")] };
  const unknownKeys = Object.keys(inputs).filter((k) => !["userData", "metaData", "networkConfig"].includes(k));
  if (unknownKeys.length) errors.push(new InvalidArgumentError(`${property}.${unknownKeys[0]}`, "is not a cloud-init seed property (userData, metaData, networkConfig)"));
  const userData = e(() => (isObject(inputs.userData) ? `#cloud-config\n${yaml11(inputs.userData)}` : text(inputs.userData, `${property}.userData`))) ?? "";
  const metaData = e(() => {
    const m = inputs.metaData ?? {};
    if (!isObject(m)) throw new InvalidArgumentError(`${property}.metaData`, "must be an object of meta-data keys");
    const id = m["instance-id"];
    if (id !== undefined && (typeof id !== "string" || !/^[\x21-\x7e]{1,128}$/.test(id))) {
      throw new InvalidArgumentError(`${property}.metaData.instance-id`, "must be 1-128 printable characters without spaces");
    }
    return m;
  }) ?? {};
  const networkConfig = e(() => {
    const n = inputs.networkConfig;
    if (n === undefined || isObject(n)) return n === undefined ? undefined : yaml11(n);
    return text(n, `${property}.networkConfig`);
  });
  if (errors.length) return { errors };

  // Keyed: the guest reads its instance-id, and a plain hash of the seed would let it confirm a guess of a password in it.
  const content = JSON.stringify([userData, networkConfig ?? null, yaml11(metaData)]);
  const contentHash = (instanceIdKey ? createHmac("sha256", instanceIdKey) : createHash("sha256")).update(content).digest("hex");
  const fullMeta = { "instance-id": `${vmName}-${contentHash.slice(0, 12)}`, "local-hostname": vmName, ...metaData };
  const files = [
    { name: "meta-data", data: Buffer.from(yaml11(fullMeta)) },
    { name: "user-data", data: Buffer.from(userData) },
    ...(networkConfig !== undefined ? [{ name: "network-config", data: Buffer.from(networkConfig) }] : []),
  ];
  const image = buildIso("cidata", files);
  return { seed: { image, sha256: createHash("sha256").update(image).digest("hex"), instanceId: String(fullMeta["instance-id"]) }, errors };
}
