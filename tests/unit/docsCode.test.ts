/**
 * Every TypeScript block in the README and docs/ compiles against the SDK as a user's program
 * would (`import * as qemu from "pulumi-qemu"`), so the docs cannot drift from the API. A block
 * may use `qemu` without importing it and the free names a prose example leaves to the reader:
 * `privateKey` and `hostKey` (strings).
 */
import * as assert from "assert";
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../../..");
const pagesIn = (dir: string) => readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith(".md")).map((f) => `${dir}/${f}`);
const DOCS = ["README.md", ...pagesIn("docs"), ...pagesIn("docs/resources")];

/** The relative links of a Markdown file (anchors dropped), resolved from the repository root. */
export function relativeLinks(doc: string, markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l) && !l.startsWith("#"))
    .map((l) => path.posix.normalize(path.posix.join(path.posix.dirname(doc), l.split("#")[0])));
}
const PRELUDE = 'import * as qemu from "pulumi-qemu";\ndeclare const privateKey: string;\ndeclare const hostKey: string;\n';

/** The ```ts blocks of a Markdown file, with the line each starts at. */
export function tsBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```ts") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== "```") end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join("\n") });
    i = end;
  }
  return blocks;
}

/** Type errors of one block, compiled as a module of a user's program. */
function errorsOf(code: string): string[] {
  const own = /^import \* as qemu from "pulumi-qemu";$/m.test(code);
  const text = (own ? PRELUDE.split("\n").slice(1).join("\n") : PRELUDE) + code + "\nexport {};\n";
  const file = path.join(ROOT, "docs-block.ts");
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true,
    skipLibCheck: true, baseUrl: ROOT, paths: { "pulumi-qemu": ["sdk/index.ts"] }, types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? text : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => path.resolve(f) === file || exists(f);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).filter((d) => d.file && path.resolve(d.file.fileName) === file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("the TypeScript in the README and docs/ compiles against the SDK", function () {
  this.timeout(120000);
  const all = DOCS.flatMap((doc) => tsBlocks(readFileSync(path.join(ROOT, doc), "utf8")).map((b) => ({ doc, ...b })));
  it("finds the blocks (the README's first program among them)", () => {
    assert.ok(all.some((b) => b.doc === "README.md"), "no TypeScript block in the README");
  });
  for (const b of all) {
    it(`${b.doc}:${b.line}`, () => assert.deepStrictEqual(errorsOf(b.code), []));
  }
  it("the README's commands are the ones CI and package.json run", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const commands = /```sh\n([\s\S]*?)```/.exec(readme)![1].split("\n").filter(Boolean).map((l) => l.replace(/\s+#.*$/, ""));
    assert.deepStrictEqual(commands, ["npm install && npm start", "npm install && npm test"]);
    assert.match(readFileSync(path.join(ROOT, ".ci/run"), "utf8"), /^npm install --no-audit --no-fund && npm test$/m);
    const scripts = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
    assert.ok(scripts.start && scripts.test, "package.json has no start or test script");
  });

  it("every link of the README and docs/ reaches a file, and every docs/ page is reached from the README", () => {
    const links = new Map(DOCS.map((d) => [d, relativeLinks(d, readFileSync(path.join(ROOT, d), "utf8"))]));
    const broken = [...links].flatMap(([d, ls]) => ls.filter((l) => !existsSync(path.join(ROOT, l))).map((l) => `${d} -> ${l}`));
    assert.deepStrictEqual(broken, []);
    const reached = new Set<string>(["README.md"]);
    for (let grew = true; grew;) {
      grew = false;
      for (const d of [...reached]) for (const l of links.get(d) ?? []) if (!reached.has(l)) { reached.add(l); grew = true; }
    }
    assert.deepStrictEqual(DOCS.filter((d) => !reached.has(d)), []);
  });

  it("a block with a mistake is caught (the check can fail)", () => {
    assert.notDeepStrictEqual(errorsOf('const vm = new qemu.Vm("web", { host: undefined as never, memorry: "1G" });'), []);
  });
});
