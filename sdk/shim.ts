/**
 * The dynamic provider object every resource of the package hands to Pulumi. Each method loads
 * the implementation when it runs, so the serialized provider holds only a module path: no
 * connection, secret or native module, and a fix in the installed package reaches old resources.
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

/** Where the stack's `qemu:*` configuration is kept for every resource of the provider process. */
const STACK_CONFIG = require.resolve("../provider/resources/stackConfig");

export function shimProvider(implementationPath: string): pulumi.dynamic.ResourceProvider {
  const stackConfig = STACK_CONFIG;
  return {
    async configure(req) { require(stackConfig).configure(req); },
    async check(olds, news) { return require(implementationPath).check(olds, news); },
    async diff(id, olds, news) { return require(implementationPath).diff(id, olds, news); },
    async create(inputs) { return require(implementationPath).create(inputs); },
    async read(id, props) { return require(implementationPath).read(id, props); },
    async update(id, olds, news) { return require(implementationPath).update(id, olds, news); },
    async delete(id, props) { return require(implementationPath).remove(id, props); },
  };
}
