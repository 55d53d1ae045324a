/** A resource's `host` input as the transport takes it: validated, every error naming its property. */
import { InvalidArgumentError } from "../errors";
import { absolutePath, memoryOvercommit } from "../validate";
import type { Connection } from "./index";
import { validateSshOptions } from "./sshOptions";

/** Validates a Connection taken as input (normally a Host's `connection` output). */
export function validateConnection(value: unknown, property: string): Connection {
  if (!value || typeof value !== "object") throw new InvalidArgumentError(property, "is required (pass a Host's `connection` output)");
  const c = value as Connection;
  if (c.kind !== "local" && c.kind !== "ssh") throw new InvalidArgumentError(`${property}.kind`, `must be "local" or "ssh"`);
  if (c.workDir === undefined) throw new InvalidArgumentError(`${property}.workDir`, "is required (pass a Host's `connection` output)");
  absolutePath(c.workDir, `${property}.workDir`);
  if (c.memoryOvercommit !== undefined) memoryOvercommit(c.memoryOvercommit, `${property}.memoryOvercommit`);
  if (c.kind === "ssh") {
    try {
      const { kind: _kind, workDir: _workDir, memoryOvercommit: _ratio, ...options } = c;
      validateSshOptions(options);
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw new InvalidArgumentError(`${property}.${e.property}`, e.reason);
      throw e;
    }
  }
  return c;
}
