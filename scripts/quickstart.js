#!/usr/bin/env node
// The main job: `pulumi up` of the root project (the quickstart) on the stack "dev", through the
// pinned CLI (scripts/pulumi.js), then how to reach the VM and how to tear it down.
const { spawnSync } = require("child_process");
const path = require("path");

const REPO = path.resolve(__dirname, "..");
function pulumi(args, options = {}) {
  const r = spawnSync(process.execPath, [path.join(__dirname, "pulumi.js"), ...args], { cwd: REPO, stdio: "inherit", env: { ...process.env, INIT_CWD: REPO }, ...options });
  return r.status ?? 1;
}
if (pulumi(["stack", "select", "dev", "--create", "--non-interactive"]) !== 0) process.exit(1);
const code = pulumi(["up", "--yes", "--non-interactive", "--stack", "dev"]);
if (code !== 0) process.exit(code);
console.log([
  "",
  "The VM runs. Reach it with the `ssh` output above (npm run -s pulumi -- stack output ssh).",
  "Check it again:  npm run -s pulumi -- preview --refresh   (repair drift: npm run -s pulumi -- up --refresh)",
  "Tear it down:    npm run -s pulumi -- destroy --yes",
].join("\n"));
