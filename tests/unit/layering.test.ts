/**
 * Imports follow the layers, top to bottom: sdk -> resources -> lifecycle -> network -> disks -> vm -> host -> qemu ->
 * cloudInit, fleet -> platform -> transport -> the base files of provider/ (errors, validate, subnet, ...).
 * A module may import its own layer or any below it, never one above. The CLI is an entry
 * point over everything and is exempt.
 */
import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { REPO_ROOT, tsSources } from "../helpers/sources";

const LAYERS: Array<[string, number]> = [
  ["sdk", 9], ["provider/resources", 8], ["provider/lifecycle", 7.5], ["provider/network", 7], ["provider/disks", 6.5], ["provider/vm", 6], ["provider/host", 5],
  ["provider/qemu", 4], ["provider/images", 3], ["provider/cloudInit", 3], ["provider/fleet", 3], ["provider/platform", 2.5], ["provider/transport", 2], ["provider", 1],
];
const EXEMPT = new Set(["provider/cli.ts"]);

/** The layer of a file: its longest matching folder. */
export function layerOf(file: string): { name: string; rank: number } {
  const hit = LAYERS.filter(([dir]) => file.startsWith(`${dir}/`)).sort((a, b) => b[0].length - a[0].length)[0];
  if (!hit) throw new Error(`${file} is in no layer`);
  return { name: hit[0], rank: hit[1] };
}

/** Every relative import of a TypeScript source, as a path from the repository root (no extension). */
export function importsOf(file: string, text: string): string[] {
  const found = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g)].map((m) => m[1]);
  return found.map((p) => path.posix.normalize(path.posix.join(path.posix.dirname(file), p)));
}

/** "a -> b" for each import that points to a layer above its own (or sideways, to another one of its rank). */
export function upwardImports(files: Array<{ file: string; text: string }>): string[] {
  return files.filter((f) => !EXEMPT.has(f.file)).flatMap(({ file, text }) => importsOf(file, text).flatMap((target) => {
    const from = layerOf(file);
    const to = layerOf(`${target}.ts`);
    return to.rank > from.rank || (to.rank === from.rank && to.name !== from.name) ? [`${file} -> ${target} (${from.name} imports ${to.name})`] : [];
  }));
}

describe("layering", () => {
  it("no import in provider/ or sdk/ points to a layer above its own", () => {
    const files = [...tsSources("provider"), ...tsSources("sdk")].map((file) => ({ file, text: readFileSync(path.join(REPO_ROOT, file), "utf8") }));
    assert.ok(files.length > 50, `only ${files.length} sources found`);
    assert.deepStrictEqual(upwardImports(files), []);
  });

  it("the check itself: an upward and a sideways import are found, a downward one is not", () => {
    assert.deepStrictEqual(upwardImports([
      { file: "provider/vm/spec.ts", text: 'import { validateConnection } from "../resources/connection";' },
      { file: "provider/fleet/inventory.ts", text: 'import type { X } from "../cloudInit/seed";' },
      { file: "provider/resources/vm.ts", text: 'import { observe } from "../vm/observe";\nexport * from "../errors";' },
    ]), [
      "provider/vm/spec.ts -> provider/resources/connection (provider/vm imports provider/resources)",
      "provider/fleet/inventory.ts -> provider/cloudInit/seed (provider/fleet imports provider/cloudInit)",
    ]);
  });

  it("a host's platform is compared only where its operations are chosen (transport/platformIo.ts, platform/index.ts)", () => {
    const allowed = new Set(["provider/transport/platformIo.ts", "provider/platform/index.ts"]);
    const files = tsSources("provider").map((file) => ({ file, text: readFileSync(path.join(REPO_ROOT, file), "utf8") }));
    assert.deepStrictEqual(platformComparisons(files).filter((c) => !allowed.has(c.split(":")[0])), []);
    assert.deepStrictEqual(platformComparisons([{ file: "provider/x.ts", text: 'if (t.platform === "windows") return;\nconst w = process.platform;\nconst ok = hostOps(t).ledger;' }]),
      ["provider/x.ts:1", "provider/x.ts:2"]);
  });
});

/** "file:line" of each comparison of a platform (a platform field against a value, or this machine's process.platform). */
export function platformComparisons(files: Array<{ file: string; text: string }>): string[] {
  const comparison = /\bplatform\s*[!=]==?\s*["'`]|[!=]==?\s*"(windows|posix|win32)"|process\.platform/;
  return files.flatMap(({ file, text }) => text.split("\n").flatMap((line, i) => (comparison.test(line) && !/^\s*(\*|\/\/)/.test(line) ? [`${file}:${i + 1}`] : [])));
}
