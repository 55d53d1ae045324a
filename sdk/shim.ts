/**
 * The dynamic provider object every resource of the package hands to Pulumi. Each method loads
 * the implementation when it runs, so the serialized provider holds only a module path: no
 * connection, secret or native module, and a fix in the installed package reaches old resources.
 */
import type * as pulumi from "@pulumi/pulumi";

export function shimProvider(implementationPath: string): pulumi.dynamic.ResourceProvider {
  return {
    async check(olds, news) { return require(implementationPath).check(olds, news); },
    async diff(id, olds, news) { return require(implementationPath).diff(id, olds, news); },
    async create(inputs) { return require(implementationPath).create(inputs); },
    async read(id, props) { return require(implementationPath).read(id, props); },
    async update(id, olds, news) { return require(implementationPath).update(id, olds, news); },
    async delete(id, props) { return require(implementationPath).remove(id, props); },
  };
}
