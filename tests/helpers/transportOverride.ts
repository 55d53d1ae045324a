/**
 * Tests only: connections this machine cannot reach for real (a recorded macOS or Windows host,
 * a KVM that lies) are answered by a double, injected through the transport's resolver
 * (useTransports) for the test's duration. undefined restores the default transports.
 */
import { useTransports, type Connection, type Transport } from "../../provider/transport";

export function overrideTransports(f: ((connection: Connection) => Transport | undefined) | undefined): void {
  useTransports(f ? (connection) => f(connection as Connection) : undefined);
}
