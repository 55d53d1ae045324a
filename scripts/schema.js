#!/usr/bin/env node
// schema.json from the TypeScript surface in sdk/: every resource (a class extending
// QemuResource), its Args interface (inputs), its declared outputs, the secrets it hands to
// additionalSecretOutputs, and the doc comments, read with the TypeScript compiler; the config
// variables from provider/resources/stackConfig.ts. `npm run schema` writes schema.json;
// tests/unit/schema.test.ts fails when the two disagree. The tokens are the provider plugin's
// (qemu:index:*, for every language); a TypeScript program's dynamic resources show as
// pulumi-nodejs:dynamic/qemu:* with the same properties.
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const ROOT = path.resolve(__dirname, "..");
const ANY = { $ref: "pulumi.json#/Any" };
/** What a change of an input does, as each input's `@change` tag in sdk/ says. */
const CHANGES = ["replace", "restart", "in place", "none"];
const CHANGE_TEXT = { replace: "replaces", restart: "restarts the VM", "in place": "in place", none: "nothing (read at create)" };

function buildSchema(root = ROOT, withChanges = false) {
  const sdkDir = path.join(root, "sdk");
  const files = fs.readdirSync(sdkDir).filter((f) => f.endsWith(".ts")).map((f) => path.join(sdkDir, f));
  const program = ts.createProgram(files, { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true });
  const checker = program.getTypeChecker();
  const types = {};
  const resources = {};
  const changes = {};

  const doc = (node) => {
    const symbol = node.name && checker.getSymbolAtLocation(node.name);
    return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() : "";
  };
  const declarationOf = (typeName) => {
    let symbol = checker.getSymbolAtLocation(typeName);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol && symbol.declarations && symbol.declarations[0];
  };
  const nameText = (n) => (ts.isQualifiedName(n) ? n.right.text : n.text);
  /** An input's `@change` tag: what changing it does (replace, restart, in place, none). */
  const changeOf = (m) => {
    const tag = ts.getJSDocTags(m).find((t) => t.tagName.text === "change");
    const text = tag && (typeof tag.comment === "string" ? tag.comment : ts.getTextOfJSDocComment(tag.comment)).trim();
    if (text !== undefined && !CHANGES.includes(text)) throw new Error(`@change ${text} on ${m.name.getText()}: not one of ${CHANGES.join(", ")}`);
    return text;
  };

  /** A type node as a schema type spec; pulumi.Input<T>/Output<T> stand for T. */
  function typeSpec(node, owner) {
    if (!node) return ANY;
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword: return { type: "string" };
      case ts.SyntaxKind.NumberKeyword: return { type: "number" };
      case ts.SyntaxKind.BooleanKeyword: return { type: "boolean" };
      case ts.SyntaxKind.LiteralType: return ts.isStringLiteral(node.literal) ? { type: "string" } : ANY;
      case ts.SyntaxKind.ParenthesizedType: return typeSpec(node.type, owner);
      case ts.SyntaxKind.ArrayType: return { type: "array", items: typeSpec(node.elementType, owner) };
      case ts.SyntaxKind.TypeLiteral: return objectType(owner, node.members, "");
      case ts.SyntaxKind.UnionType: {
        const parts = node.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword);
        if (parts.every((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal))) return { type: "string" };
        return parts.length === 1 ? typeSpec(parts[0], owner) : ANY;
      }
      case ts.SyntaxKind.TypeReference: {
        const name = nameText(node.typeName);
        if (name === "Input" || name === "Output") return typeSpec(node.typeArguments[0], owner);
        if (name === "Record") return { type: "object", additionalProperties: node.typeArguments ? typeSpec(node.typeArguments[1], owner) : ANY };
        // Array<T> is the array type, not TypeScript's own Array interface (its `length`).
        if (name === "Array" || name === "ReadonlyArray") return { type: "array", items: typeSpec(node.typeArguments && node.typeArguments[0], owner) };
        const decl = declarationOf(node.typeName);
        if (decl && ts.isInterfaceDeclaration(decl)) return objectType(decl.name.text, decl.members, doc(decl));
        if (decl && ts.isTypeAliasDeclaration(decl)) return typeSpec(decl.type, decl.name.text);
        // A resource of the package: a reference to it (YAML writes `${host}`).
        if (decl && ts.isClassDeclaration(decl) && decl.getSourceFile().fileName.startsWith(sdkDir)) return { $ref: `#/resources/qemu:index:${decl.name.text}` };
        return ANY;
      }
      default: return ANY; // intersections, mapped types: described in prose, not in structure
    }
  }

  /** A named object type under `types`, its properties from the members' type nodes. */
  function objectType(name, members, description) {
    const token = `qemu:index:${name}`;
    if (!types[token]) {
      types[token] = { type: "object", ...(description ? { description } : {}), properties: {} };
      const required = [];
      for (const m of members) {
        if (!ts.isPropertySignature(m) || !m.name) continue;
        const key = m.name.text ?? m.name.getText();
        const d = doc(m);
        types[token].properties[key] = { ...typeSpec(m.type, name + capitalize(key)), ...(d ? { description: d } : {}) };
        if (!m.questionToken) required.push(key);
      }
      if (required.length) types[token].required = required;
    }
    return { $ref: `#/types/${token}` };
  }

  /** String values of an array literal, following spreads of `const X = [...] as const`. */
  function stringList(expr) {
    if (ts.isAsExpression(expr)) return stringList(expr.expression);
    if (ts.isIdentifier(expr)) {
      const decl = declarationOf(expr);
      return decl && decl.initializer ? stringList(decl.initializer) : [];
    }
    if (!ts.isArrayLiteralExpression(expr)) return [];
    return expr.elements.flatMap((e) => (ts.isStringLiteral(e) ? [e.text] : ts.isSpreadElement(e) ? stringList(e.expression) : []));
  }

  for (const file of files) {
    const source = program.getSourceFile(file);
    ts.forEachChild(source, (node) => {
      if (!ts.isClassDeclaration(node) || !node.heritageClauses) return;
      const base = node.heritageClauses.flatMap((h) => h.types.map((t) => t.expression.getText(source)));
      const isComponent = base.includes("pulumi.ComponentResource");
      if (!base.includes("QemuResource") && !isComponent) return;
      const ctor = node.members.find(ts.isConstructorDeclaration);
      let secrets = [];
      let token = "";
      ctor.body.forEachChild(function visit(n) {
        if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.SuperKeyword) {
          // A component's token is its first argument; a resource's, its type (the last).
          token = isComponent ? n.arguments[0].text : `qemu:index:${n.arguments[n.arguments.length - 1].text}`;
        }
        if (ts.isPropertyAssignment(n) && n.name.getText(source) === "additionalSecretOutputs") secrets = stringList(n.initializer);
        // A component's secret outputs are the ones it assigns with pulumi.secret(...).
        if (isComponent && ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && /^this\.\w+$/.test(n.left.getText(source))
          && ts.isCallExpression(n.right) && n.right.expression.getText(source) === "pulumi.secret") secrets.push(n.left.getText(source).slice(5));
        n.forEachChild(visit);
      });
      const argsType = ctor.parameters[1].type;
      const argsDecl = declarationOf(argsType.typeName);
      const inputProperties = {};
      const requiredInputs = [];
      for (const m of argsDecl.members) {
        const key = m.name.text;
        const change = changeOf(m);
        if (change) changes[node.name.text] = { ...changes[node.name.text], [key]: change };
        inputProperties[key] = { ...typeSpec(m.type, node.name.text + capitalize(key)), description: doc(m),
          ...(change === "replace" ? { replaceOnChanges: true } : {}), ...(secrets.includes(key) ? { secret: true } : {}) };
        if (!m.questionToken) requiredInputs.push(key);
      }
      const properties = {};
      for (const m of node.members) {
        if (!ts.isPropertyDeclaration(m)) continue;
        const key = m.name.text;
        // A component's child resources are not outputs.
        if (isComponent && /^(Vm|Disk|Host|HostCapabilities)\[\]$/.test(m.type.getText(source))) continue;
        properties[key] = { ...typeSpec(m.type, node.name.text + capitalize(key)), description: doc(m), ...(secrets.includes(key) ? { secret: true } : {}) };
      }
      resources[token] = { description: doc(node), ...(isComponent ? { isComponent: true } : {}), properties, inputProperties, ...(requiredInputs.length ? { requiredInputs } : {}), secrets };
    });
  }
  const sorted = (o) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  return {
    name: "qemu",
    displayName: "QEMU",
    version: pkg.version,
    description: pkg.description,
    keywords: ["pulumi", "qemu", "kvm", "virtual-machine", "ssh"],
    license: pkg.license,
    meta: { moduleFormat: "(.*)" },
    language: { nodejs: { packageName: pkg.name } },
    config: { variables: configVariables(root) },
    types: sorted(types),
    ...(withChanges ? { changes } : {}),
    resources: sorted(Object.fromEntries(Object.entries(resources).map(([k, r]) => {
      const { secrets: _s, ...rest } = r;
      return [k, rest];
    }))),
  };
}

/** The stack's `qemu:*` keys, from the lists stackConfig.ts reads (their doc comments say what each is). */
function configVariables(root) {
  const source = fs.readFileSync(path.join(root, "provider/resources/stackConfig.ts"), "utf8");
  const list = (name) => JSON.parse(source.match(new RegExp(`export const ${name} = (\\[[^\\]]*\\])`))[1]);
  const DOCS = {
    host: '"local" or [ssh://][user@]address[:port]: the default host of every Host that names none.',
    port: "The default SSH port.", user: "The default SSH user.", hostKey: "The host's SSH public key, pinned.",
    knownHostsFile: "A known_hosts file that pins the host's key.", agent: "An ssh-agent socket.",
    workDir: "The default working directory on the host.", privateKey: "The SSH private key (set it with --secret).",
    passphrase: "The private key's passphrase (set it with --secret).", password: "The SSH password (set it with --secret).",
  };
  const variables = {};
  for (const key of list("PLAIN_KEYS")) variables[key] = { type: "string", description: DOCS[key] };
  for (const key of list("SECRET_KEYS")) variables[key] = { type: "string", description: DOCS[key], secret: true };
  return variables;
}

function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// The reference pages' tables (docs/resources/<page>.md), from the same schema: each page holds
// its resource's inputs, outputs and the object types they use between the markers below, and
// tests/unit/schema.test.ts fails when a page's tables differ from what the schema says.
const PAGES = {
  Host: "host", HostCapabilities: "host-capabilities", Disk: "disk", Image: "image", Vm: "vm",
  Network: "network", Snapshot: "snapshot", Fleet: "fleet", FleetPlacement: "fleet",
  GuestCommand: "guest-command", GuestFile: "guest-file", WarmState: "warm-state",
};
const BEGIN = (name) => `<!-- ${name}: generated by npm run schema from sdk/; do not edit -->`;
const END = (name) => `<!-- end of ${name} -->`;

function referenceTables(schema) {
  const cell = (t) => (t || "").replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
  const typeName = (spec) => {
    if (spec.$ref && spec.$ref.startsWith("#/types/")) return spec.$ref.split(":").pop();
    if (spec.$ref) return "any";
    if (spec.type === "array") return `${typeName(spec.items)}[]`;
    if (spec.type === "object") return "map";
    return spec.type;
  };
  const refsOf = (spec) => (spec.$ref && spec.$ref.startsWith("#/types/") ? [spec.$ref.slice(8)] : spec.items ? refsOf(spec.items) : []);
  const table = (props, required, head, change) => [
    `| ${head} | Type | Required | Secret |${change ? " A change |" : ""} Description |`, `|---|---|---|---|${change ? "---|" : ""}---|`,
    ...Object.entries(props).map(([k, p]) => `| \`${k}\` | ${typeName(p)} | ${required.includes(k) ? "yes" : ""} | ${p.secret ? "yes" : ""} |` +
      `${change ? ` ${CHANGE_TEXT[change[k]] || ""} |` : ""} ${cell(p.description)} |`),
  ].join("\n");
  const pages = {};
  for (const [token, r] of Object.entries(schema.resources)) {
    const name = token.split(":").pop();
    const used = [];
    const visit = (spec) => refsOf(spec).forEach((t) => {
      if (used.includes(t)) return;
      used.push(t);
      Object.values(schema.types[t].properties).forEach(visit);
    });
    [...Object.values(r.inputProperties), ...Object.values(r.properties)].forEach(visit);
    const parts = [`### ${name}: inputs`, "", table(r.inputProperties, r.requiredInputs || [], "Input", schema.changes && schema.changes[name]), "", `### ${name}: outputs`, "", table(r.properties, [], "Output")];
    for (const t of used.sort()) {
      const type = schema.types[t];
      parts.push("", `### ${t.split(":").pop()}`, "", ...(type.description ? [cell(type.description), ""] : []), table(type.properties, type.required || [], "Field"));
    }
    pages[name] = { file: PAGES[name], marker: name, text: parts.join("\n") };
  }
  return pages;
}

/** A page's text with each of its resources' generated sections replaced by `tables` (a section missing is an error). */
function withTables(page, tables) {
  let text = page;
  for (const t of tables) {
    const begin = text.indexOf(BEGIN(t.marker));
    const end = text.indexOf(END(t.marker));
    if (begin < 0 || end < begin) throw new Error(`docs/resources/${t.file}.md has no generated section for ${t.marker}`);
    text = text.slice(0, begin) + BEGIN(t.marker) + "\n\n" + t.text + "\n\n" + text.slice(end);
  }
  return text;
}

/** Each reference page as it should read: path -> text. */
function referencePages(root = ROOT, schema = buildSchema(root, true)) {
  const byFile = {};
  for (const t of Object.values(referenceTables(schema))) (byFile[t.file] = byFile[t.file] || []).push(t);
  return Object.fromEntries(Object.entries(byFile).map(([file, tables]) => {
    const where = path.join(root, "docs/resources", `${file}.md`);
    return [where, withTables(fs.readFileSync(where, "utf8"), tables)];
  }));
}

/** Each resource's inputs and what their change does, from the `@change` tags of sdk/. */
function changePolicies(root = ROOT) {
  return buildSchema(root, true).changes;
}

module.exports = { buildSchema, referencePages, changePolicies };

if (require.main === module) {
  // One read of sdk/ for both: schema.json leaves out the @change tags its pages show.
  const schema = buildSchema(ROOT, true);
  const { changes: _changes, ...plain } = schema;
  fs.writeFileSync(path.join(ROOT, "schema.json"), JSON.stringify(plain, null, 2) + "\n");
  for (const [file, text] of Object.entries(referencePages(ROOT, schema))) fs.writeFileSync(file, text);
  console.log("wrote schema.json and the tables of docs/resources/*.md");
}
