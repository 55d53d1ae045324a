/**
 * Every TypeScript block in the README and docs/ compiles against the SDK as a user's program
 * would (`import * as qemu from "pulumi-qemu"`), so the docs cannot drift from the API. A block
 * may use `qemu` without importing it and the free names a prose example leaves to the reader:
 * `privateKey` and `hostKey` (strings).
 */
import * as assert from "assert";
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../../..");
const DOCS = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
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
  it("a block with a mistake is caught (the check can fail)", () => {
    assert.notDeepStrictEqual(errorsOf('const vm = new qemu.Vm("web", { host: undefined as never, memorry: "1G" });'), []);
  });
});
