/**
 * The @grpc/grpc-js module that @pulumi/pulumi itself loads: its provider server is made of that
 * copy's classes, and its generated clients take that copy's credentials.
 */
import * as path from "path";

export function pulumiGrpc(): typeof import("@grpc/grpc-js") {
  const from = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve("@grpc/grpc-js", { paths: [from] }));
}
