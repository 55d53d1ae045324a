/**
 * The stack's `qemu:*` config for the plugin. @pulumi/pulumi's provider server answers the
 * engine's Configure itself and drops the variables; this wraps its handler, before the server
 * is made, so that the variables reach stackConfig as they do in the dynamic provider.
 */
import { pulumiGrpc } from "./pulumiGrpc";

type Get = (key: string) => string | undefined;

export function onConfigure(use: (get: Get) => void): void {
  // The Server class main() makes is this copy's.
  const server = pulumiGrpc().Server.prototype as unknown as { addService(service: unknown, impl: Record<string, unknown>): void };
  const addService = server.addService;
  server.addService = function (service: unknown, impl: Record<string, unknown>) {
    if (impl && typeof impl.configure === "function") {
      const configure = (impl.configure as (...a: unknown[]) => void).bind(impl);
      impl.configure = (call: { request: { getVariablesMap(): { get(k: string): string | undefined } } }, callback: (e: unknown) => void) => {
        try {
          const variables = call.request.getVariablesMap();
          // The engine's keys are `qemu:config:<key>` (the protocol's older form) or `qemu:<key>`.
          use((k) => variables.get(k.replace(/^([^:]+):/, "$1:config:")) ?? variables.get(k));
        } catch (e) {
          callback(e);
          return;
        }
        configure(call, callback);
      };
    }
    return addService.call(this, service, impl);
  };
}
