#!/usr/bin/env node
// Runs the named suites (unit, integration, e2e) with mocha, brings the SSH test hosts up for
// the suites that need them and down afterwards, and ends with the line CI reads:
// "N passed, N failed".
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const Mocha = require("mocha");

const root = path.resolve(__dirname, "..");
const suites = process.argv.slice(2);
const needsHosts = suites.some((s) => s !== "unit");
const hosts = path.join(root, "tests/testbed/hosts.sh");

function specFiles(suite) {
  const dir = path.join(root, "bin/tests", suite);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith(".test.js"))
    .sort()
    .map((f) => path.join(dir, f));
}

function hostsDown() {
  try { execFileSync("bash", [hosts, "down"], { stdio: "inherit" }); } catch { /* reported above */ }
}

async function main() {
  if (needsHosts) {
    execFileSync("bash", [hosts, "up"], { stdio: "inherit" });
    process.on("SIGINT", () => { hostsDown(); process.exit(130); });
  }
  let passed = 0, failed = 0;
  // Skipped tests by their reason (tests/helpers/skip.ts): a check that cannot run here is counted.
  const skipped = new Map();
  try {
    for (const suite of suites) {
      const mocha = new Mocha({ timeout: 60000, reporter: "spec" });
      for (const file of specFiles(suite)) mocha.addFile(file);
      const stats = await new Promise((resolve) => {
        const runner = mocha.run(() => resolve(runner.stats));
        runner.on("pending", (test) => {
          const reason = test.skipReason ?? "no reason given (this.skip() without skipBecause)";
          skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
        });
      });
      passed += stats.passes;
      failed += stats.failures;
    }
  } finally {
    if (needsHosts) hostsDown();
  }
  const skips = [...skipped.values()].reduce((a, b) => a + b, 0);
  // Before the last line, which stays "N passed, N failed" for CI to read.
  console.log(`${skips} skipped${skips ? `: ${[...skipped].map(([reason, n]) => `${n} because ${reason}`).join("; ")}` : ""}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
