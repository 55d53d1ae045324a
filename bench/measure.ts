/** Small measuring tools of the benchmark: clocks, medians, ratios, peak RSS of a process. */
import { readdirSync, readFileSync } from "fs";

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = now();
  const value = await work();
  return { ms: now() - t0, value };
}

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** Field by field, the median of several runs' figures of one shape (numbers only). */
export function medianFigure<T extends object>(runs: T[]): T {
  const keys = Object.keys(runs[0]) as Array<keyof T>;
  return Object.fromEntries(keys.map((k) => [k, round(median(runs.map((r) => r[k] as unknown as number)))])) as T;
}

/**
 * Peak resident memory (VmHWM, KiB) of every live process whose command line contains `marker`,
 * sampled until stop() is called: the kernel keeps the peak, so a sample taken late still sees it.
 */
export function watchPeakRss(marker: string, everyMs = 100): { stop(): number } {
  const peaks = new Map<number, number>();
  const sample = () => {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (!readFileSync(`/proc/${entry}/cmdline`, "latin1").includes(marker)) continue;
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, "latin1"))?.[1];
        if (hwm) peaks.set(Number(entry), Math.max(peaks.get(Number(entry)) ?? 0, Number(hwm)));
      } catch { /* the process ended between listing and reading */ }
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return { stop: () => { clearInterval(timer); sample(); return Math.max(0, ...peaks.values()); } };
}
