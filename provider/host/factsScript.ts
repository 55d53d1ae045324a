/**
 * The facts of a POSIX host (Linux, macOS, FreeBSD) in one round trip: provider/scripts/facts.sh,
 * printed as key=value lines. Windows hosts run facts.ps1 (windowsFacts.ts).
 */
import { PROBE_CACHE_DIR } from "../layout";
import { NATIVE_BINARY } from "./facts";
import { shScriptArgv } from "../transport/hostScript";

/** argv that runs the script; $1 is the working directory whose probe cache is read. */
export function factsArgv(workDir: string): string[] {
  const NATIVE_BINARIES = Object.entries(NATIVE_BINARY).map(([arch, binary]) => `${arch}=${binary}`).join(" ");
  return shScriptArgv(["facts.sh"], [workDir], { PROBE_CACHE_DIR, NATIVE_BINARIES });
}
