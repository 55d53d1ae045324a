/** The state directories of a VM under a working directory, on the machine that holds it (hostFiles.ts). */
import * as path from "path";
import { listDir } from "./hostFiles";

/** `<workDir>/vms/NAME` (an older release's) and every `<workDir>/vms/NAME.TAG` (one per owner token). */
export async function vmStateDirs(workDir: string, name: string): Promise<string[]> {
  const root = path.join(workDir, "vms");
  const named = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.[0-9a-f]{8}$`);
  return (await listDir(root)).filter((d) => d === name || named.test(d)).map((d) => path.join(root, d));
}
