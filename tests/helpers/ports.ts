/**
 * A first host port for a test's forwards (each VM adds 1, up to `span`): random below Linux's
 * ephemeral range, where outgoing connections and the engine's own listeners take theirs, so a
 * forward there can find its port held (an e2e run met that at 33751).
 */
import { readFileSync } from "fs";

export function firstForwardPort(span = 200): number {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || ephemeralLow;
  } catch { /* not Linux: keep the default */ }
  const low = 10000;
  return low + Math.floor(Math.random() * Math.max(1, ephemeralLow - low - span));
}
