/**
 * A user's project outside this repository, as the e2e tests that use `npm pack` make it: the
 * package from its tarball, this repository's @pulumi/pulumi version, and the program's files.
 */
import { execFileSync, spawn } from "child_process";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { REPO } from "./engine";

/** `npm pack` of this repository into `dir`; the tarball's path. */
export function packTarball(dir: string): string {
  return path.join(dir, execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: REPO }).toString().trim().split("\n").pop()!);
}

/** A Node.js Pulumi project `name` in `dir` running `program` (index.js), with the package installed from `tarball`. */
export function userProject(dir: string, name: string, program: string, tarball: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\n`);
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", main: "index.js" }));
  writeFileSync(path.join(dir, "index.js"), program);
  installPackage(dir, tarball);
}

/** `npm install` of the package from `tarball` and this repository's @pulumi/pulumi version in the project `dir`. */
export function installPackage(dir: string, tarball: string): void {
  const sdk = JSON.parse(readFileSync(path.join(REPO, "node_modules/@pulumi/pulumi/package.json"), "utf8")).version;
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${sdk}`], { cwd: dir, stdio: "ignore" });
}

/** The CLI wrapper a user project runs `pulumi` through here (the pinned CLI, offline). */
export const PULUMI_SCRIPT = path.join(REPO, "scripts/pulumi.js");

/** The environment of `pulumi` in the user project `dir`, with a file backend of its own in `stateDir` (as each person or CI job has). */
export function userProjectEnv(dir: string, stateDir: string, passphrase: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PULUMI_BACKEND_URL: `file://${stateDir}`, PULUMI_CONFIG_PASSPHRASE: passphrase, INIT_CWD: dir, ...extra };
}

/**
 * `pulumi ARGS` in the user project `root/<who>` (its state in `root/state-<who>`), for tests with
 * several stacks of one program: resolves with the output, rejects with its last lines.
 */
export function projectsUnder(root: string, passphrase = "shared"): (who: string, ...args: string[]) => Promise<string> {
  return (who, ...args) => new Promise<string>((resolve, reject) => {
    const child = spawn("node", [PULUMI_SCRIPT, ...args], { cwd: path.join(root, who), env: userProjectEnv(path.join(root, who), path.join(root, `state-${who}`), passphrase), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { out += d; });
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`stack ${who}: pulumi ${args.join(" ")} exited ${code}:\n${out.slice(-4000)}`))));
  });
}
