/** The package's own TypeScript sources, for tests that read the code itself (layering, script text). */
import { readdirSync, statSync } from "fs";
import * as path from "path";

/** The repository root, from this helper compiled to bin/tests/helpers/ (the e2e harness has its own REPO, beside the engine it loads). */
export const REPO_ROOT = path.resolve(__dirname, "../../..");

/** Every .ts file under `dir` (relative to the repository root, declarations apart), as relative paths. */
export function tsSources(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(REPO_ROOT, rel)).isDirectory()) return tsSources(rel);
    return rel.endsWith(".ts") && !rel.endsWith(".d.ts") ? [rel] : [];
  });
}
