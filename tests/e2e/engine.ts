/** The pinned Pulumi CLI and its offline environment: scripts/engine.js, typed for the tests. */
import * as path from "path";

export const REPO = path.resolve(__dirname, "../../..");

const engine = require(path.join(REPO, "scripts/engine.js")) as {
  pulumiBinDir(): string;
  engineEnv(stateDir: string): Record<string, string>;
};

export const pulumiBinDir = engine.pulumiBinDir;
export const engineEnv = engine.engineEnv;
