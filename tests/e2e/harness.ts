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
import { engineEnv, pulumiBinDir, REPO } from "./engine";

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
  mkdirSync(path.join(dir, "state"));
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(pulumiBinDir()) });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "e2e", projectName: name, program },
    { workDir: dir, pulumiCommand, envVars: engineEnv(path.join(dir, "state")), projectSettings: {
      name, runtime: "nodejs", backend: { url: `file://${path.join(dir, "state")}` } } });
  retryStaleChannel(stack);
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
 * grpc-js shares subchannels by address across the process, so when the OS gives a new engine the
 * port of an earlier, closed one, the program's first call can meet that stale subchannel in
 * backoff and fail with "14 UNAVAILABLE: No connection established" before the program registers
 * anything (seen once in CI, at the stack resource of a preview). A real `pulumi` run is one
 * program per process and never meets this. Such a step, and only such a step, is run once more.
 */
function retryStaleChannel(stack: Stack): void {
  const stale = (e: unknown) => {
    const message = String((e as Error)?.message);
    return /14 UNAVAILABLE: No connection established/.test(message) && /pulumi:pulumi:Stack/.test(message) && !/pulumi-nodejs:dynamic/.test(message);
  };
  for (const method of ["preview", "up", "refresh", "destroy"] as const) {
    const original = (stack[method] as (...a: unknown[]) => Promise<unknown>).bind(stack);
    (stack as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      try {
        return await original(...args);
      } catch (e) {
        if (!stale(e)) throw e;
        console.error(`e2e: ${method} met a stale gRPC channel before the program registered anything; running it once more`);
        await new Promise((r) => setTimeout(r, 1000));
        return original(...args);
      }
    };
  }
}
