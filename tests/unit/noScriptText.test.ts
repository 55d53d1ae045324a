/**
 * Issue 17: host scripts live in provider/scripts; a .ts file of the package holds at most
 * one-line commands. A script spread over lines shows as String.raw, a template literal that
 * spans lines, or an array of lines joined with newlines, holding sh or PowerShell words.
 */
import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { REPO_ROOT, tsSources } from "../helpers/sources";

const SCRIPT_WORDS = /(;\s*then\b|\bfi\b|\bdone\b|\besac\b|\$\(|Test-Path|-LiteralPath|\$ErrorActionPreference|\[Console\]|\bforeach\s*\()/;

/** The multi-line script texts of one TypeScript source, by line number. */
export function multiLineScripts(text: string): number[] {
  const lineOf = (i: number) => text.slice(0, i).split("\n").length;
  const found: number[] = [];
  for (const m of text.matchAll(/String\.raw`/g)) found.push(lineOf(m.index!));
  for (const m of text.matchAll(/`([^`]*)`/g)) if (m[1].includes("\n") && SCRIPT_WORDS.test(m[1])) found.push(lineOf(m.index!));
  for (const m of text.matchAll(/\[([^\]]*)\]\.join\("\\n"\)/g)) if (SCRIPT_WORDS.test(m[1])) found.push(lineOf(m.index!));
  return [...new Set(found)].sort((a, b) => a - b);
}

describe("no host script text in the package's TypeScript", () => {
  it("provider/ and sdk/ hold no multi-line sh or PowerShell", () => {
    const files = [...tsSources("provider"), ...tsSources("sdk")];
    assert.ok(files.length > 50, `only ${files.length} sources found`);
    const hits = files.flatMap((f) => multiLineScripts(readFileSync(path.join(REPO_ROOT, f), "utf8")).map((line) => `${f}:${line}`));
    assert.deepStrictEqual(hits, []);
  });

  it("the check itself finds each form and passes a one-line command", () => {
    assert.deepStrictEqual(multiLineScripts('const a = String.raw`x`;'), [1]);
    assert.deepStrictEqual(multiLineScripts('const b = `if [ -e "$1" ]; then\n  rm "$1"\nfi`;'), [1]);
    assert.deepStrictEqual(multiLineScripts('const c = [\n  "set -e",\n  "x=$(cat f)",\n].join("\\n");'), [1]);
    assert.deepStrictEqual(multiLineScripts('const d = ["sh", "-c", \'for f in "$1"/*; do echo "$f"; done\', "x"];'), []);
    assert.deepStrictEqual(multiLineScripts('const e = `a message\nover two lines`;'), []);
  });
});
