/** The parts of a resource's URN the plugin needs: `urn:pulumi:<stack>::<project>::<types>::<name>`. */
export interface UrnParts {
  stack: string;
  project: string;
  /** The resource's own type (the last of a parent chain `a$b$c`). */
  type: string;
  name: string;
}

export function parseUrn(urn: string): UrnParts {
  const parts = urn.split("::");
  if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) throw new Error(`not a resource URN: ${JSON.stringify(urn)}`);
  const types = parts[2].split("$");
  return { stack: parts[0].slice("urn:pulumi:".length), project: parts[1], type: types[types.length - 1], name: parts.slice(3).join("::") };
}
