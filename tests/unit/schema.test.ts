/**
 * schema.json against the TypeScript: it must equal what scripts/schema.js reads from sdk/
 * (run `npm run schema` after changing the surface), describe every input and output, and
 * name only outputs that the provider implementations really produce.
 */
import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../../..");
const { buildSchema, referencePages } = require(path.join(ROOT, "scripts/schema.js")) as {
  buildSchema(root?: string): Schema;
  referencePages(root?: string): Record<string, string>;
};

interface Property { description?: string; secret?: boolean; type?: string; $ref?: string }
interface Resource { description: string; properties: Record<string, Property>; inputProperties: Record<string, Property>; requiredInputs?: string[]; isComponent?: boolean }
interface Schema { resources: Record<string, Resource>; types: Record<string, { properties: Record<string, Property> }> }

/** Property names of each provider's Outputs (or Inputs) type, as the compiler resolves them. */
function providerTypeNames(suffix: "Outputs" | "Inputs" = "Outputs"): Record<string, string[]> {
  const files = [...["disk", "fleetPlacement", "host", "hostCapabilities", "image", "network", "snapshot", "vm", "guestCommand", "guestFile", "warmState"].map((f) => path.join(ROOT, "provider/resources", `${f}.ts`)),
    path.join(ROOT, "provider/vm/spec.ts")];
  const program = ts.createProgram(files, { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true });
  const checker = program.getTypeChecker();
  const names: Record<string, string[]> = {};
  for (const file of files) {
    const source = program.getSourceFile(file)!;
    ts.forEachChild(source, (node) => {
      if ((ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) && node.name.text.endsWith(suffix)) {
        const type = checker.getTypeAtLocation(node.name);
        names[node.name.text.slice(0, -suffix.length)] = checker.getPropertiesOfType(type).map((p) => p.name);
      }
    });
  }
  return names;
}

describe("schema.json", function () {
  this.timeout(60000);
  const committed = JSON.parse(readFileSync(path.join(ROOT, "schema.json"), "utf8")) as Schema;

  it("equals what the TypeScript surface says (run `npm run schema` after changing sdk/)", () => {
    assert.deepStrictEqual(committed, buildSchema(ROOT));
  });

  it("the reference pages' input and output tables are the schema's (run `npm run schema` after changing sdk/)", () => {
    const pages = referencePages(ROOT);
    assert.strictEqual(Object.keys(pages).length, 11);
    for (const [file, text] of Object.entries(pages)) assert.strictEqual(readFileSync(file, "utf8"), text, `${path.relative(ROOT, file)} differs from the schema`);
  });

  it("has every resource, the Fleet's placement record and the Fleet component with their type tokens", () => {
    assert.deepStrictEqual(Object.keys(committed.resources).sort(),
      ["Disk", "Fleet", "FleetPlacement", "GuestCommand", "GuestFile", "Host", "HostCapabilities", "Image", "Network", "Snapshot", "Vm", "WarmState"].map((t) => `qemu:index:${t}`));
    assert.strictEqual(committed.resources["qemu:index:Fleet"].isComponent, true);
  });

  it("declares the stack config the plugin reads (credentials secret) and a Fleet's hosts as references to Hosts", () => {
    const variables = (committed as unknown as { config: { variables: Record<string, { secret?: boolean }> } }).config.variables;
    assert.deepStrictEqual(Object.keys(variables).filter((k) => variables[k].secret).sort(), ["passphrase", "password", "privateKey"]);
    assert.ok(["host", "port", "user", "hostKey", "workDir"].every((k) => k in variables && !variables[k].secret));
    const hosts = committed.resources["qemu:index:Fleet"].inputProperties.hosts as Record<string, unknown>;
    assert.deepStrictEqual(hosts.additionalProperties, { $ref: "#/resources/qemu:index:Host" });
  });

  it("the YAML example uses only types and inputs the schema has", () => {
    const example = parse(readFileSync(path.join(ROOT, "examples/yaml/Pulumi.yaml"), "utf8")) as { resources: Record<string, { type: string; properties?: object }> };
    const unknown = Object.entries(example.resources).flatMap(([name, r]) => {
      const spec = committed.resources[r.type];
      if (!spec) return [`${name}: type ${r.type}`];
      return Object.keys(r.properties ?? {}).filter((k) => !(k in spec.inputProperties)).map((k) => `${name}: ${r.type} input ${k}`);
    });
    assert.deepStrictEqual(unknown, []);
  });

  it("an Array<T> input is an array of T, not TypeScript's Array interface", () => {
    const nics = committed.resources["qemu:index:WarmState"].inputProperties.nics as Record<string, unknown>;
    assert.deepStrictEqual([nics.type, nics.items, nics.$ref], ["array", { type: "string" }, undefined]);
    assert.ok(!("qemu:index:Array" in (committed.types ?? {})));
  });

  it("describes every resource, input and output", () => {
    const missing: string[] = [];
    for (const [token, r] of Object.entries(committed.resources)) {
      if (!r.description) missing.push(token);
      for (const [k, p] of Object.entries(r.inputProperties)) if (!p.description) missing.push(`${token} input ${k}`);
      for (const [k, p] of Object.entries(r.properties)) if (!p.description) missing.push(`${token} output ${k}`);
    }
    assert.deepStrictEqual(missing, []);
  });

  it("marks credentials and what carries them secret", () => {
    const secret = (t: string, where: "inputProperties" | "properties") =>
      Object.entries(committed.resources[`qemu:index:${t}`][where]).filter(([, p]) => p.secret).map(([k]) => k).sort();
    assert.deepStrictEqual(secret("Host", "inputProperties"), ["jumpHosts", "passphrase", "password", "privateKey"]);
    assert.deepStrictEqual(secret("Host", "properties"), ["connection"]);
    assert.deepStrictEqual(secret("Vm", "inputProperties"), ["cloudInit", "guestPrivateKey", "host"]);
    assert.deepStrictEqual(secret("Vm", "properties"), ["guestConnection"]);
    for (const t of ["Disk", "HostCapabilities", "Image"]) assert.deepStrictEqual(secret(t, "inputProperties"), ["host"]);
    // What a command was given and printed may carry secrets: never in clear text in state.
    assert.deepStrictEqual(secret("GuestCommand", "inputProperties"), ["environment", "stdin"]);
    assert.deepStrictEqual(secret("GuestCommand", "properties"), ["stderr", "stdout"]);
    const fleetSecrets = Object.entries(committed.resources["qemu:index:Fleet"].properties).filter(([, p]) => p.secret).map(([k]) => k);
    assert.deepStrictEqual(fleetSecrets, ["guestConnections"]);
  });

  it("names only outputs the provider implementations produce", () => {
    const produced = providerTypeNames();
    for (const [token, r] of Object.entries(committed.resources)) {
      if (r.isComponent) continue; // a component computes its outputs in sdk/ from its children's
      const name = token.split(":").pop()!;
      assert.ok(produced[name], `no ${name}Outputs type in provider/resources`);
      const unknown = Object.keys(r.properties).filter((k) => !produced[name].includes(k));
      assert.deepStrictEqual(unknown, [], `${name}: outputs declared in sdk/ that the provider does not produce`);
    }
  });

  it("lists the same inputs as the provider reads: the SDK's args and the provider's inputs agree", () => {
    // What the SDK sets itself (owner records, a host's id for replacement) or a Fleet records: never a user's input.
    const internal: Record<string, string[]> = {
      Disk: ["hostId", "ownerToken", "owner"], Image: ["hostId", "ownerToken", "owner"], Network: ["ownerToken", "owner"],
      HostCapabilities: ["hostId"], Snapshot: ["host", "hostId"], FleetPlacement: ["seats", "slots", "moves"],
      Vm: ["hostId", "ownerToken", "owner", "seedKey", "autoPorts"],
      // A Vm names the VM: its host, state directory and name reach the provider.
      GuestCommand: ["host", "hostId", "stateDir"], GuestFile: ["host", "hostId", "stateDir", "sourceSha256"],
      WarmState: ["hostId", "ownerToken", "owner"],
    };
    const read = providerTypeNames("Inputs");
    for (const [token, r] of Object.entries(committed.resources)) {
      if (r.isComponent) continue;
      const name = token.split(":").pop()!;
      assert.ok(read[name], `no ${name}Inputs type in the provider`);
      const sdk = Object.keys(r.inputProperties);
      const onlyProvider = read[name].filter((k) => !sdk.includes(k) && !(internal[name] ?? []).includes(k));
      const onlySdk = sdk.filter((k) => !read[name].includes(k));
      assert.deepStrictEqual({ onlyProvider, onlySdk }, { onlyProvider: [], onlySdk: [] }, `${name}: sdk/ and the provider's ${name}Inputs disagree`);
    }
  });
});
