/**
 * pulumi-resource-qemu: the provider plugin that serves this package to programs of every Pulumi
 * language (YAML, Python, Go, C#, Java). The engine starts it; it answers on a port it prints.
 */
import * as fs from "fs";
import * as path from "path";
import { usePluginResources } from "./mode";

usePluginResources(); // before any resource class loads: they register qemu:index:* custom resources
/* eslint-disable @typescript-eslint/no-require-imports */
const { onConfigure } = require("./configure") as typeof import("./configure");
const stackConfig = require("../../provider/resources/stackConfig") as typeof import("../../provider/resources/stackConfig");
const { setProgressSink } = require("../../provider/progress") as typeof import("../../provider/progress");
const { engineLogSink } = require("./engineLog") as typeof import("./engineLog");
onConfigure((get) => stackConfig.configure({ config: { get } }));
const engine = require("@pulumi/pulumi/provider/internals").parseArgs(process.argv.slice(2))?.engineAddress as string | undefined;
if (engine) setProgressSink(engineLogSink(engine));

const root = path.resolve(__dirname, "../../..");
const version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version as string;
const schema = fs.readFileSync(path.join(root, "schema.json"), "utf8");
const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
const { Host } = require("../host") as typeof import("../host");
const { HostCapabilities } = require("../hostCapabilities") as typeof import("../hostCapabilities");
const { qemuProvider } = require("./provider") as typeof import("./provider");

// A Fleet's `hosts: {h1: ${h1}}` arrives as references to Host resources: made into Hosts here.
pulumi.runtime.registerResourceModule("qemu", "index", {
  version,
  construct(name, type, urn) {
    if (type === "qemu:index:Host") return new Host(name, {}, { urn });
    if (type === "qemu:index:HostCapabilities") return new HostCapabilities(name, {} as never, { urn });
    throw new Error(`pulumi-resource-qemu: a reference to ${type} is not taken here`);
  },
});

require("@pulumi/pulumi/provider").main(qemuProvider(version, schema), process.argv.slice(2));
