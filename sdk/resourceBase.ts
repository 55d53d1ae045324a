/**
 * The base of every resource class of the package. In a TypeScript program it is Pulumi's
 * dynamic resource (token `pulumi-nodejs:dynamic/qemu:<Type>`, served by the serialized
 * provider of shim.ts). Inside the provider plugin (`pulumi-resource-qemu`, for every other
 * language), the same classes register custom resources `qemu:index:<Type>` that the plugin
 * serves: a component's children must be (the engine starts a dynamic provider in the
 * consumer's directory, pulumi/pulumi#5455).
 */
import * as pulumi from "@pulumi/pulumi";
import { servedByPlugin } from "./plugin/mode";

/** A custom resource of the plugin, with the dynamic resource's constructor (its provider unused). */
class PluginResource extends pulumi.CustomResource {
  constructor(_provider: unknown, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions, _module?: string, type?: string) {
    super(`qemu:index:${type}`, name, props, opts);
  }
}

export const QemuResource: typeof pulumi.dynamic.Resource = servedByPlugin()
  ? (PluginResource as unknown as typeof pulumi.dynamic.Resource)
  : pulumi.dynamic.Resource;
