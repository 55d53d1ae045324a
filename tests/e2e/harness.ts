/**
 * Runs a Pulumi program through the real CLI in a temporary stack and directory, one step at a
 * time, and hands each step's structured result to the test. The program runs in this process
 * (Automation API inline program, served to the CLI over --client), so no pulumi-language-nodejs
 * binary is needed; everything else (engine, state, diff, the pulumi-nodejs dynamic provider
 * plugin and its serialized providers) is the real thing. On failure the directory is kept.
 */
import { LocalWorkspace, PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { mkdirSync, mkdtempSync, rmSync } from "fs";
import * as path from "path";
import { isGrpcError } from "@pulumi/pulumi/errors";
import { engineEnv, pulumiBinDir, REPO } from "./engine";

oneSubchannelPoolPerClient();
gRpcErrorsOfTheProgramFailTheStep();

export interface StackHarness {
  stack: Stack;
  dir: string;
  /** The stack's state file as the backend keeps it: secrets encrypted (exportStack would decrypt them). */
  stateFile: string;
  /** Everything the CLI printed so far, for assertions on what a user sees. */
  output(): string;
}

export async function withStack(name: string, program: PulumiFn, test: (h: StackHarness) => Promise<void>): Promise<void> {
  // Inside the repo so that the dynamic-provider plugin (run with this cwd) finds node_modules.
  const root = path.join(REPO, ".cache/e2e");
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(path.join(root, `${name}-`));
  const { counted, guardSteps } = failWhenTheProgramNeverRan(program);
  mkdirSync(path.join(dir, "state"));
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(pulumiBinDir()) });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "e2e", projectName: name, program: counted },
    { workDir: dir, pulumiCommand, envVars: engineEnv(path.join(dir, "state")), projectSettings: {
      name, runtime: "nodejs", backend: { url: `file://${path.join(dir, "state")}` } } });
  retryStaleChannel(stack);
  guardSteps(stack);
  let printed = "";
  const stateFile = path.join(dir, "state/.pulumi/stacks", name, "e2e.json");
  const harness: StackHarness = { stack, dir, stateFile, output: () => printed };
  const record = (text: string) => (printed += text);
  Object.assign(harness, { record });
  try {
    await test(harness);
    await stack.workspace.removeStack("e2e");
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    console.error(`e2e: kept the stack directory for inspection: ${dir}\n--- CLI output ---\n${printed}`);
    // Whatever the test left running (VMs) goes; the state and the output stay for reading.
    await stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
    throw e;
  }
}

/** Options that stream the CLI's output into the harness record. */
export function capture(h: StackHarness): { onOutput: (s: string) => void } {
  return { onOutput: (h as unknown as { record: (s: string) => void }).record };
}

/**
 * One test process runs many inline programs, each against a new engine on a new ephemeral port.
 * grpc-js shares subchannels by address across the process by default: a new client to the port of
 * an earlier engine whose client is still open meets that subchannel in backoff, and its first call
 * fails with "14 UNAVAILABLE: No connection established. Last error: null" (made to happen here
 * with two plain grpc-js servers on one port). The SDK's clients take this options object, so each
 * gets a pool of its own; a real `pulumi` run is one program per process and never shares.
 */
function oneSubchannelPoolPerClient(): void {
  const settings = require("@pulumi/pulumi/runtime/settings") as { grpcClientOptions?: Record<string, unknown> };
  if (!settings.grpcClientOptions) throw new Error("e2e: @pulumi/pulumi/runtime/settings no longer exports grpcClientOptions; see oneSubchannelPoolPerClient");
  settings.grpcClientOptions["grpc.use_local_subchannel_pool"] = 1;
}

/**
 * The SDK's inline-program server drops a gRPC error (UNAVAILABLE, CANCELLED) that ends the
 * program's run, taking it for an engine that went away: the step then ends "successfully" with
 * only what was registered before, and an up deletes every resource the program did not get to
 * declare. Seen once in CI: a preview with 3 creates, then an up that created the stack alone, in
 * 1 s, with no error. Here such an error fails the step instead (the engine deletes nothing then).
 */
function gRpcErrorsOfTheProgramFailTheStep(): void {
  const runtimeStack = require("@pulumi/pulumi/runtime/stack") as { runInPulumiStack: (init: () => Promise<unknown>) => Promise<unknown> };
  const original = runtimeStack.runInPulumiStack;
  runtimeStack.runInPulumiStack = async (init) => {
    try {
      return await original(init);
    } catch (e) {
      if (!isGrpcError(e as Error)) throw e;
      throw new Error(`e2e: the program's run ended with a gRPC error that the SDK would have dropped: ${(e as Error).message}`);
    }
  };
}

type Step = "preview" | "up" | "refresh" | "destroy";

/** Replaces each of `steps` on `stack` by `around(step, run)`, where `run` calls the original with the same arguments. */
function aroundSteps(stack: Stack, steps: readonly Step[], around: (step: Step, run: () => Promise<unknown>) => Promise<unknown>): void {
  for (const step of steps) {
    const original = (stack[step] as (...a: unknown[]) => Promise<unknown>).bind(stack);
    (stack as unknown as Record<string, unknown>)[step] = (...args: unknown[]) => around(step, () => original(...args));
  }
}

/**
 * A step that ends without having run the program at all, by whatever path, cannot be trusted
 * either (the stack's own registration succeeded, nothing else happened): it fails, saying so.
 * Returns the program to give the stack, which counts its runs.
 */
function failWhenTheProgramNeverRan(program: PulumiFn): { counted: PulumiFn; guardSteps: (stack: Stack) => void } {
  let runs = 0;
  const counted: PulumiFn = async () => {
    runs++;
    return program();
  };
  const guardSteps = (stack: Stack) => aroundSteps(stack, ["preview", "up"], async (step, run) => {
    const before = runs;
    const result = await run();
    if (runs === before) throw new Error(`e2e: the ${step} ended without running the program (something before the program failed and was not reported); its result cannot be trusted`);
    return result;
  });
  return { counted, guardSteps };
}

/**
 * The same stale subchannel once failed a preview's registration of the stack resource with
 * "14 UNAVAILABLE: No connection established" (in CI, before oneSubchannelPoolPerClient). Kept as a
 * second guard: such a step, and only such a step, is run once more.
 */
function retryStaleChannel(stack: Stack): void {
  const stale = (e: unknown) => {
    const message = String((e as Error)?.message);
    return /14 UNAVAILABLE: No connection established/.test(message) && /pulumi:pulumi:Stack/.test(message) && !/pulumi-nodejs:dynamic/.test(message);
  };
  aroundSteps(stack, ["preview", "up", "refresh", "destroy"], async (step, run) => {
    try {
      return await run();
    } catch (e) {
      if (!stale(e)) throw e;
      console.error(`e2e: ${step} met a stale gRPC channel before the program registered anything; running it once more`);
      await new Promise((r) => setTimeout(r, 1000));
      return run();
    }
  });
}
