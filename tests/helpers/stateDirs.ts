/** The state directories of a VM under a working directory, as a test on this machine sees them. */
import { existsSync, readdirSync } from "fs";
import * as path from "path";

/** `<workDir>/vms/NAME` (an older release's) and every `<workDir>/vms/NAME.TAG` (one per owner token). */
export function vmStateDirs(workDir: string, name: string): string[] {
  const root = path.join(workDir, "vms");
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((d) => d === name || new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.[0-9a-f]{8}$`).test(d)).map((d) => path.join(root, d));
}
