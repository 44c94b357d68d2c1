// Pure figures of the corpus bench (bench/corpus.ts), apart so they can be checked in tests.
import type { Spread } from './report-model.js';
import { median } from './rollout-figures.js';

/** Median, p95 by nearest rank (the smallest value at least 95 % of the times do not exceed), max and sum. */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error('spread of no times');
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    median: median(sorted),
    p95: sorted[Math.ceil(0.95 * sorted.length) - 1]!,
    max: sorted[sorted.length - 1]!,
    total: sorted.reduce((a, b) => a + b, 0),
  };
}

/** The n slowest, slowest first; ties by name so the list is stable. */
export function slowest(times: ReadonlyMap<string, number>, n: number): { name: string; ms: number }[] {
  return [...times]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms }));
}

/** Every `every`-th of the cases, starting with the first: the ones a fresh CLI process validates too. */
export function sampleEvery<T>(xs: readonly T[], every: number): T[] {
  return every > 0 ? xs.filter((_, i) => i % every === 0) : [];
}
