/**
 * Tests only: connections this machine cannot reach for real (a recorded macOS or Windows host,
 * a KVM that lies) are answered by a double. The transport index's transportFor is replaced for
 * the test's duration (every caller reads it from the module at call time), so the production
 * code carries no hook for it. undefined restores the real one.
 */
import type { Connection, Transport } from "../../provider/transport";

type TransportFor = (connection?: Connection) => Transport;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const index = require("../../provider/transport") as { transportFor: TransportFor };
const real = index.transportFor;

export function overrideTransports(f: ((connection: Connection) => Transport | undefined) | undefined): void {
  index.transportFor = f ? (connection) => (connection && f(connection)) || real(connection) : real;
}
