#!/usr/bin/env node
// `npm run pulumi -- <args>`: the project's pinned Pulumi CLI, offline (file backend, no update
// check, no plugin download). Commands that run a program (preview, up, refresh, destroy) on a
// Node.js project are served by @pulumi/pulumi's own language server in this process over
// --client, because the pulumi-language-nodejs binary cannot be built here (see README).
const { execFileSync, spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { CACHE, engineEnv, pulumiBinDir } = require("./engine");

const args = process.argv.slice(2);
const bin = pulumiBinDir();
const stateDir = path.join(CACHE, "state");
fs.mkdirSync(stateDir, { recursive: true });
// The user's own backend and Pulumi home win over the offline defaults.
const env = {
  ...process.env,
  ...engineEnv(stateDir),
  PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL || `file://${stateDir}`,
  PULUMI_HOME: process.env.PULUMI_HOME || path.join(CACHE, "pulumi-home"),
};
const cwd = process.env.INIT_CWD || process.cwd(); // npm run changes cwd to the package root
const PROGRAM_COMMANDS = new Set(["preview", "pre", "up", "update", "refresh", "destroy", "down"]);

function projectMain(dir) {
  const yamlText = fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8");
  const main = /^main:\s*(\S+)/m.exec(yamlText);
  return path.resolve(dir, main ? main[1] : ".");
}

/**
 * A require that loads from the project's own @pulumi/pulumi, so that the language server and
 * the program share one copy (a second copy's gRPC messages are not the program's: "Request
 * message serialization failure"); this package's copy when the project has none.
 */
function projectPulumiRequire(dir) {
  const { createRequire } = require("module");
  try {
    return createRequire(createRequire(path.join(dir, "package.json")).resolve("@pulumi/pulumi/package.json"));
  } catch {
    return require;
  }
}

async function languageServer(dir) {
  // TypeScript programs: transpile on load, as the Node.js language host would.
  const ts = require("typescript");
  require.extensions[".ts"] = (module, filename) => {
    const out = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: filename,
    });
    module._compile(out.outputText, filename);
  };
  const sdkRequire = projectPulumiRequire(dir);
  const grpc = sdkRequire("@grpc/grpc-js");
  const { LanguageServer } = sdkRequire("@pulumi/pulumi/automation/server");
  const langrpc = sdkRequire("@pulumi/pulumi/proto/language_grpc_pb");
  const entry = projectMain(dir);
  const program = async () => {
    // The CLI may run the program more than once in this process (preview, then update):
    // load the project's own modules afresh each time so that every run registers its resources.
    for (const key of Object.keys(require.cache)) {
      if (key.startsWith(dir + path.sep) && !key.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[key];
    }
    const exported = require(entry);
    return typeof exported === "function" ? exported() : exported;
  };
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(langrpc.LanguageRuntimeService, new LanguageServer(program));
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, address: `127.0.0.1:${port}` };
}

/** The project's runtime name (Pulumi.yaml `runtime: x` or `runtime: {name: x}`), or undefined. */
function projectRuntime(dir) {
  if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) return undefined;
  const m = /^runtime:\s*(?:\n\s+name:\s*)?["']?(\w+)/m.exec(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
  return m ? m[1] : undefined;
}

async function main() {
  const runtime = projectRuntime(cwd);
  // A YAML program: the CLI runs the pinned YAML language host (built once, beside the CLI).
  if (runtime === "yaml") execFileSync("bash", [path.join(__dirname, "../tests/testbed/pulumi-yaml.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  // A Node.js program is served from this process (this machine has no pulumi-language-nodejs).
  const runsProgram = PROGRAM_COMMANDS.has(args[0]) && runtime === "nodejs";
  let server;
  const cliArgs = [...args];
  if (runsProgram) {
    const served = await languageServer(cwd);
    server = served.server;
    cliArgs.push(`--client=${served.address}`);
  }
  const child = spawn(path.join(bin, "pulumi"), cliArgs, { cwd, env, stdio: "inherit" });
  child.on("exit", (code, signal) => {
    if (server) server.forceShutdown();
    process.exit(code ?? (signal ? 1 : 0));
  });
}
main().catch((e) => { console.error(e.message); process.exit(1); });
