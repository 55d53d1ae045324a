/**
 * Skips the running test and says why: tests/run.js groups the skipped tests by this reason in
 * the summary CI prints, so a check that cannot run on a machine is counted, never silently gone.
 */
import type { Context } from "mocha";

export function skipBecause(ctx: Context, reason: string): never {
  if (ctx.test) (ctx.test as { skipReason?: string }).skipReason = reason;
  ctx.skip();
  throw new Error("unreachable: mocha's skip throws");
}

/** The reason a skipped test gave (tests/run.js). */
export function skipReasonOf(test: unknown): string {
  return (test as { skipReason?: string }).skipReason ?? "no reason given (this.skip() without skipBecause)";
}
