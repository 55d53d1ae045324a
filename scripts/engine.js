// Where the pinned Pulumi CLI lives and the offline environment it runs in. Shared by
// `npm run pulumi` (scripts/pulumi.js) and the e2e harness (tests/e2e/engine.ts).
const { execFileSync } = require("child_process");
const path = require("path");

const REPO = path.resolve(__dirname, "..");
const CACHE = process.env.PULUMI_QEMU_CACHE || path.join(process.env.HOME || "/root", ".cache/pulumi-qemu");

let binDir;

/** Builds the CLI on first use (minutes), then reuses the cached build. */
function pulumiBinDir() {
  binDir = binDir || execFileSync("bash", [path.join(REPO, "tests/testbed/pulumi-cli.sh")], { stdio: ["ignore", "pipe", "inherit"] })
    .toString().trim();
  return binDir;
}

/** Fully offline: file backend, passphrase, no update check, no plugin download. */
function engineEnv(stateDir) {
  return {
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "pulumi-qemu-local",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: path.join(CACHE, "pulumi-home"),
    PATH: `${pulumiBinDir()}:${process.env.PATH}`,
  };
}

module.exports = { REPO, CACHE, pulumiBinDir, engineEnv };
