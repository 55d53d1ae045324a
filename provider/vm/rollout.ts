/**
 * Restarts of one rollout group (a fleet asked to roll) run one host at a time: the restarts of
 * one host run together, and those of other hosts wait until they have all ended. A restart that
 * fails stops the rollout there: the hosts still waiting are left as they were, each told which
 * restart failed and which went through. This works in process because the engine's provider
 * process serves every dynamic resource of a run.
 */
interface Waiter { host: string; go: () => void; stop: (why: Error) => void; what: string }
interface Group { active?: string; running: number; waiting: Waiter[]; done: string[]; failed?: { host: string; what: string; reason: string } }

const groups = new Map<string, Group>();

/**
 * `what` names the restart in messages ("VM web-1"); `waiting` hears which host's restarts this
 * one waits for (for progress in the CLI). Rejects without running `work` when an earlier host's
 * restart failed.
 */
export async function oneHostAtATime<T>(group: string, host: string, work: () => Promise<T>, waiting: (activeHost: string) => void = () => undefined, what = host): Promise<T> {
  let g = groups.get(group);
  if (!g) groups.set(group, (g = { running: 0, waiting: [], done: [] }));
  const state = g;
  if (state.active === undefined || state.active === host) {
    state.active = host;
    state.running++;
  } else {
    // Counted in `running` by whoever lets it go.
    waiting(state.active);
    await new Promise<void>((go, stop) => state.waiting.push({ host, go, stop, what }));
  }
  try {
    const result = await work();
    state.done.push(what);
    return result;
  } catch (e) {
    state.failed ??= { host, what, reason: (e as Error).message.split("\n")[0] };
    throw e;
  } finally {
    state.running--;
    if (state.running === 0) letNextHostGo(group, state);
  }
}

function letNextHostGo(group: string, state: Group): void {
  const next = state.waiting[0]?.host;
  if (next === undefined || state.failed) {
    groups.delete(group);
    const f = state.failed;
    for (const w of state.waiting) {
      w.stop(new Error(`${w.what}: left as it was: the rolling update stopped on ${f!.host}, where ${f!.what} failed to restart (${f!.reason}); ` +
        `restarted before it: ${state.done.join(", ") || "none"}`));
    }
    return;
  }
  const batch = state.waiting.filter((w) => w.host === next);
  state.waiting = state.waiting.filter((w) => w.host !== next);
  state.active = next;
  state.running += batch.length;
  for (const w of batch) w.go();
}
