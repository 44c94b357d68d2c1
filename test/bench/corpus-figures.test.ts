import { describe, expect, it } from 'vitest';
import { sampleEvery, slowest, spread } from '../../bench/corpus-figures.js';

describe('corpus figures', () => {
  it('spread: median, p95 by nearest rank, max and sum, whatever the order', () => {
    const xs = Array.from({ length: 20 }, (_, i) => 20 - i); // 20 … 1
    expect(spread(xs)).toEqual({ median: 10.5, p95: 19, max: 20, total: 210 });
    // 79 cases: the 76th smallest is the p95.
    const ys = Array.from({ length: 79 }, (_, i) => i + 1);
    expect(spread(ys).p95).toBe(76);
    expect(spread([7])).toEqual({ median: 7, p95: 7, max: 7, total: 7 });
    expect(() => spread([])).toThrow(/no times/);
  });

  it('slowest: the n largest, slowest first, ties by name', () => {
    const t = new Map([['a', 1], ['c', 5], ['b', 5], ['d', 3]]);
    expect(slowest(t, 3)).toEqual([{ name: 'b', ms: 5 }, { name: 'c', ms: 5 }, { name: 'd', ms: 3 }]);
    expect(slowest(t, 10)).toHaveLength(4);
  });

  it('sampleEvery: the first case and every n-th after it; none for 0', () => {
    expect(sampleEvery(['a', 'b', 'c', 'd', 'e'], 2)).toEqual(['a', 'c', 'e']);
    expect(sampleEvery(['a', 'b'], 0)).toEqual([]);
  });
});
