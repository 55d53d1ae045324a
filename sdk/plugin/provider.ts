/**
 * The provider plugin's resource methods: every custom resource `qemu:index:<Type>` is served by
 * the same provider/resources/<module> code as the TypeScript SDK's dynamic resource, and the
 * Fleet component is the SDK's Fleet, whose children register as the plugin's custom resources.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as plugin from "@pulumi/pulumi/provider";
import { parseUrn, type UrnParts } from "./urn";
import { concealProps, revealProps } from "./secrets";
import { completeInputs } from "./inputs";
import { forResource } from "./engineLog";

/** Type -> the file of provider/resources and of sdk/ that hold it. */
export const MODULES: Record<string, string> = {
  Host: "host", HostCapabilities: "hostCapabilities", Disk: "disk", Vm: "vm", Network: "network", Snapshot: "snapshot",
  Image: "image", WarmState: "warmState", FleetPlacement: "fleetPlacement", GuestCommand: "guestCommand", GuestFile: "guestFile",
};

interface ResourceModule {
  check(olds: unknown, news: unknown): Promise<{ inputs?: Record<string, unknown>; failures?: plugin.CheckFailure[] }>;
  diff(id: string, olds: unknown, news: unknown): Promise<plugin.DiffResult>;
  create(inputs: unknown): Promise<{ id: string; outs: Record<string, unknown> }>;
  read(id: string, props: unknown): Promise<{ id?: string; props?: Record<string, unknown> }>;
  update(id: string, olds: unknown, news: unknown): Promise<{ outs?: Record<string, unknown> }>;
  remove(id: string, props: unknown): Promise<void>;
}

function moduleOf(urn: string): { urn: UrnParts; code: ResourceModule; secrets: string[] } {
  const u = parseUrn(urn);
  const file = u.type.startsWith("qemu:index:") ? MODULES[u.type.slice("qemu:index:".length)] : undefined;
  if (!file) throw new Error(`pulumi-resource-qemu serves no resource of type ${u.type}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const secrets = [...((require(`../${file}`).SECRET_OUTPUTS as readonly string[] | undefined) ?? [])];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return { urn: u, code: require(`../../provider/resources/${file}`), secrets };
}

/** Outputs of a resource method, marked secret where the inputs were or the SDK says. */
function outputs(props: Record<string, unknown> | undefined, secrets: string[], cameSecret: string[]): Record<string, unknown> {
  return concealProps(props ?? {}, [...secrets, ...cameSecret]);
}

export function qemuProvider(version: string, schema: string): plugin.Provider {
  return {
    version,
    schema,
    check: (urn, olds, news) => forResource(urn, async () => {
      const { urn: parts, code, secrets } = moduleOf(urn);
      const { plain, secretKeys } = revealProps(news);
      const result = await code.check(revealProps(olds).plain, completeInputs(parts, plain));
      return { inputs: result.inputs && outputs(result.inputs, secrets, secretKeys), failures: result.failures };
    }),
    diff: (id, urn, olds, news) => forResource(urn, async () => {
      return moduleOf(urn).code.diff(id, revealProps(olds).plain, revealProps(news).plain);
    }),
    create: (urn, inputs) => forResource(urn, async () => {
      const { code, secrets } = moduleOf(urn);
      const { plain, secretKeys } = revealProps(inputs);
      const result = await code.create(plain);
      return { id: result.id, outs: outputs(result.outs, secrets, secretKeys) };
    }),
    read: (id, urn, props) => forResource(urn, async () => {
      const { code, secrets } = moduleOf(urn);
      const { plain, secretKeys } = revealProps(props);
      const result = await code.read(id, plain);
      // Gone: no id. The server serializes props either way.
      return { id: result.id, props: outputs(result.props, secrets, secretKeys) };
    }),
    update: (id, urn, olds, news) => forResource(urn, async () => {
      const { code, secrets } = moduleOf(urn);
      const { plain, secretKeys } = revealProps(news);
      const result = await code.update(id, revealProps(olds).plain, plain);
      return { outs: outputs(result.outs, secrets, secretKeys) };
    }),
    delete: (id, urn, props) => forResource(urn, async () => {
      await moduleOf(urn).code.remove(id, revealProps(props).plain);
    }),
    async construct(name, type, inputs, options) {
      if (type !== "qemu:index:Fleet") throw new Error(`pulumi-resource-qemu serves no component of type ${type}`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Fleet } = require("../fleet") as typeof import("../fleet");
      const fleet = new Fleet(name, await plainArgs(inputs) as unknown as import("../fleet").FleetArgs, options);
      return { urn: fleet.urn, state: { members: fleet.members, placement: fleet.placement, ansibleInventory: fleet.ansibleInventory,
        sshConfig: fleet.sshConfig, guestConnections: fleet.guestConnections } };
    },
  };
}

/**
 * The Fleet reads its arguments' shape (hosts, names, template) as it declares its members, as in
 * a TypeScript program; the engine hands each argument with dependencies as an Output. Those are
 * waited for here (Host references and literals are known in a preview too).
 */
async function plainArgs(inputs: pulumi.Inputs): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    if (!pulumi.Output.isInstance(value)) { args[key] = value; continue; }
    const output = value as unknown as { isKnown: Promise<boolean>; promise(): Promise<unknown> };
    if (!(await output.isKnown)) throw new Error(`Fleet: ${key}: must be known when the fleet is planned (it is an output of a resource not made yet)`);
    args[key] = await output.promise();
  }
  return args;
}
