/**
 * Progress and preview lines of the plugin, through the engine's Log service: the CLI shows a
 * plugin's stdout nowhere, but shows a logged message beside its resource (as it shows the
 * dynamic provider's stdout). Each provider call runs with its resource's URN in context.
 */
import { AsyncLocalStorage } from "async_hooks";
import { pulumiGrpc } from "./pulumiGrpc";

const current = new AsyncLocalStorage<string>();

/** Runs `work` with `urn` as the resource that progress lines belong to. */
export function forResource<T>(urn: string, work: () => Promise<T>): Promise<T> {
  return current.run(urn, work);
}

/** A sink for provider/progress.ts that logs at info level to the engine at `address`. */
export function engineLogSink(address: string): (message: string) => void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const rpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
  const proto = require("@pulumi/pulumi/proto/engine_pb");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const client = new rpc.EngineClient(address, pulumiGrpc().credentials.createInsecure());
  return (message) => {
    const req = new proto.LogRequest();
    req.setSeverity(proto.LogSeverity.INFO);
    req.setMessage(message);
    req.setUrn(current.getStore() ?? "");
    client.log(req, () => undefined); // a lost progress line is not an error of the resource
  };
}
