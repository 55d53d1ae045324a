/**
 * Restarts of one rollout group (a fleet asked to roll) run one host at a time: the restarts of
 * one host run together, and those of other hosts wait until they have all ended. This works in
 * process because the engine's provider process serves every dynamic resource of a run.
 */
interface Waiter { host: string; go: () => void }
interface Group { active?: string; running: number; waiting: Waiter[] }

const groups = new Map<string, Group>();

/** `waiting` hears which host's restarts this one waits for (for progress in the CLI). */
export async function oneHostAtATime<T>(group: string, host: string, work: () => Promise<T>, waiting: (activeHost: string) => void = () => undefined): Promise<T> {
  let g = groups.get(group);
  if (!g) groups.set(group, (g = { running: 0, waiting: [] }));
  const state = g;
  if (state.active === undefined || state.active === host) {
    state.active = host;
    state.running++;
  } else {
    // Counted in `running` by whoever lets it go.
    waiting(state.active);
    await new Promise<void>((go) => state.waiting.push({ host, go }));
  }
  try {
    return await work();
  } finally {
    state.running--;
    if (state.running === 0) letNextHostGo(group, state);
  }
}

function letNextHostGo(group: string, state: Group): void {
  const next = state.waiting[0]?.host;
  if (next === undefined) {
    groups.delete(group);
    return;
  }
  const batch = state.waiting.filter((w) => w.host === next);
  state.waiting = state.waiting.filter((w) => w.host !== next);
  state.active = next;
  state.running += batch.length;
  for (const w of batch) w.go();
}
