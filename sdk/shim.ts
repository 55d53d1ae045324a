/**
 * The dynamic provider object every resource of the package hands to Pulumi. Each method loads
 * the implementation when it runs, so the serialized provider holds only the package's name and
 * a module's: no connection, secret, native module or path, and a fix in the installed package
 * reaches old resources.
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * The resource's properties: its inputs, plus an undefined entry for each output the provider
 * computes (so that the resource has an Output for it). An input of the same name is kept.
 */
export function withOutputs(inputs: object, outputs: readonly string[]): Record<string, unknown> {
  const props: Record<string, unknown> = { ...inputs };
  for (const key of outputs) if (!(key in props)) props[key] = undefined;
  return props;
}

/**
 * Loads a module of the installed package by its name, never by a path: from the program's
 * directory (the engine runs the provider there), so that a stack made in one checkout is
 * refreshed and destroyed from another on another path, each with its own `npm install`.
 * Inside this package's own tree (its tests), the name resolves to the package itself.
 * It is serialized with each provider method, so it must stay self-contained.
 */
function loadInstalled(module: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createRequire } = require("module");
  return createRequire(`${process.cwd()}/`)(`pulumi-qemu/provider/resources/${module}`);
}

/** The provider of one resource type; `module` names its file in provider/resources. */
export function shimProvider(module: string): pulumi.dynamic.ResourceProvider {
  const load = loadInstalled;
  return {
    async configure(req) { load("stackConfig").configure(req); },
    async check(olds, news) { return load(module).check(olds, news); },
    async diff(id, olds, news) { return load(module).diff(id, olds, news); },
    async create(inputs) { return load(module).create(inputs); },
    async read(id, props) { return load(module).read(id, props); },
    async update(id, olds, news) { return load(module).update(id, olds, news); },
    async delete(id, props) { return load(module).remove(id, props); },
  };
}
