/**
 * What the engine does with a dynamic provider, without the CLI: serialize the provider object
 * with pulumi.runtime.serializeFunction, then load the text back the way the pulumi-nodejs
 * provider plugin does (require-from-string, .handler()).
 */
import * as pulumi from "@pulumi/pulumi";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString: (code: string) => { handler: () => pulumi.dynamic.ResourceProvider } = require("require-from-string");

export async function roundTripProvider(provider: pulumi.dynamic.ResourceProvider): Promise<{ text: string; provider: pulumi.dynamic.ResourceProvider }> {
  const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return { text: serialized.text, provider: requireFromString(serialized.text).handler() };
}
