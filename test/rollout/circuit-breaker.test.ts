import { describe, expect, it } from 'vitest';
import {
  evaluateCircuitBreaker,
  latencyAtQuantile,
  parseCircuitBreaker,
  type CbExpr,
  type TrafficWindow,
} from '../../src/rollout/circuit-breaker.js';

function parsed(src: string): CbExpr {
  const p = parseCircuitBreaker(src);
  if (!p.ok) throw new Error(`${src}: ${p.message} at ${p.column}`);
  return p.expr;
}

/** `n` responses with `code`, `ms` latency each, histogram on Traefik's default buckets. */
function traffic(...groups: [n: number, code: number, ms?: number][]): TrafficWindow {
  const responses: Record<number, number> = {};
  const bounds = [0.1, 0.3, 1.2, 5, Infinity];
  const latency = bounds.map((le) => ({ leSeconds: le, count: 0 }));
  for (const [n, code, ms = 10] of groups) {
    responses[code] = (responses[code] ?? 0) + n;
    for (const b of latency) if (ms / 1000 <= b.leSeconds) b.count += n;
  }
  return { responses, latency: groups.length ? latency : [] };
}

const tripped = (src: string, w: TrafficWindow) => evaluateCircuitBreaker(parsed(src), w).tripped;

describe('parseCircuitBreaker', () => {
  it('reads the three metrics, every comparison operator and whitespace', () => {
    expect(parsed('ResponseCodeRatio(500, 600, 0, 600) > 0.25')).toEqual({
      type: 'compare',
      metric: { kind: 'ResponseCodeRatio', from: 500, to: 600, dividedByFrom: 0, dividedByTo: 600 },
      op: '>',
      value: 0.25,
    });
    expect(parsed('NetworkErrorRatio()>=.5')).toEqual({ type: 'compare', metric: { kind: 'NetworkErrorRatio' }, op: '>=', value: 0.5 });
    expect(parsed('  LatencyAtQuantileMS( 50.0 )  <=  100 ')).toEqual({
      type: 'compare',
      metric: { kind: 'LatencyAtQuantileMS', quantile: 50 },
      op: '<=',
      value: 100,
    });
    for (const op of ['>', '<', '>=', '<=', '==', '!=']) {
      expect(parsed(`NetworkErrorRatio() ${op} 1`)).toMatchObject({ op });
    }
  });

  it('binds && tighter than ||, and parentheses override it', () => {
    const a = 'NetworkErrorRatio() > 1';
    const b = 'NetworkErrorRatio() > 2';
    const c = 'NetworkErrorRatio() > 3';
    const leaf = (v: number) => ({ type: 'compare', metric: { kind: 'NetworkErrorRatio' }, op: '>', value: v });
    expect(parsed(`${a} || ${b} && ${c}`)).toEqual({ type: 'or', left: leaf(1), right: { type: 'and', left: leaf(2), right: leaf(3) } });
    expect(parsed(`${a} && ${b} || ${c}`)).toEqual({ type: 'or', left: { type: 'and', left: leaf(1), right: leaf(2) }, right: leaf(3) });
    expect(parsed(`(${a} || ${b}) && ${c}`)).toEqual({ type: 'and', left: { type: 'or', left: leaf(1), right: leaf(2) }, right: leaf(3) });
  });

  it.each([
    ['', 1, 'empty'],
    ['   ', 1, 'empty'],
    ['ResponseCodeRatio(500, 600, 0, 600)', 36, 'expected a comparison'],
    ['ResponseCodeRatio(500, 600, 0, 600) > ', 39, 'expected a number'],
    ['ResponseCodeRatio(500, 600, 0) > 0.25', 30, 'takes 4 arguments, got 3'],
    ['ResponseCodeRatio(500, 600, 0, 600, 1) > 0.25', 37, 'takes 4 arguments, got 5'],
    ['ResponseCodeRatio(600, 500, 0, 600) > 0.25', 19, 'range [600, 500) is empty'],
    ['ResponseCodeRatio(500, 600, 0, 0) > 0.25', 29, 'range [0, 0) is empty'],
    ['ResponseCodeRatio(500.5, 600, 0, 600) > 0.25', 19, 'integers'],
    ['NetworkErrorRatio(1) > 0.5', 19, 'takes 0 arguments'],
    ['LatencyAtQuantileMS() > 100', 21, 'takes 1 argument, got 0'],
    ['LatencyAtQuantileMS(150) > 100', 21, 'percentage'],
    ['responseCodeRatio(500, 600, 0, 600) > 0.25', 1, 'did you mean ResponseCodeRatio'],
    ['ErrorRatio() > 0.5', 1, 'unknown function ErrorRatio'],
    ['NetworkErrorRatio() > 0.5 & NetworkErrorRatio() > 0.1', 27, 'use "&&"'],
    ['NetworkErrorRatio() > 0.5 | NetworkErrorRatio() > 0.1', 27, 'use "||"'],
    ['NetworkErrorRatio() = 0.5', 21, 'use "=="'],
    ['NetworkErrorRatio() > 0.5 NetworkErrorRatio() > 0.1', 27, 'expected "&&", "||" or the end'],
    ['(NetworkErrorRatio() > 0.5', 27, 'expected ")"'],
    ['NetworkErrorRatio() > 0.5)', 26, 'unexpected ")"'],
    ['0.5 < NetworkErrorRatio()', 1, 'expected ResponseCodeRatio'],
    ['NetworkErrorRatio() > 0.5 && ', 30, 'expected ResponseCodeRatio'],
    ['NetworkErrorRatio() > 50%', 25, 'unexpected character "%"'],
  ])('rejects %j at column %i (%s)', (src, column, message) => {
    const p = parseCircuitBreaker(src);
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.message).toContain(message);
    expect(p.column).toBe(column);
  });
});

describe('evaluateCircuitBreaker', () => {
  const ratio = 'ResponseCodeRatio(500, 600, 0, 600) > 0.25';

  it('trips on a 5xx ratio over the threshold and says what it measured', () => {
    expect(evaluateCircuitBreaker(parsed(ratio), traffic([6, 200], [4, 503]))).toEqual({
      tripped: true,
      detail: 'ResponseCodeRatio(500,600,0,600) = 0.40 > 0.25 (4 of 10 responses)',
    });
    expect(evaluateCircuitBreaker(parsed(ratio), traffic([9, 200], [1, 500]))).toEqual({
      tripped: false,
      detail: 'ResponseCodeRatio(500,600,0,600) = 0.10, not > 0.25 (1 of 10 responses)',
    });
  });

  it('counts a ratio as 0 when nothing was observed, so an idle service never trips', () => {
    expect(evaluateCircuitBreaker(parsed(ratio), traffic())).toEqual({
      tripped: false,
      detail: 'ResponseCodeRatio(500,600,0,600) = 0.00, not > 0.25 (0 of 0 responses)',
    });
    expect(tripped('NetworkErrorRatio() > 0.1', traffic())).toBe(false);
    expect(tripped('LatencyAtQuantileMS(50.0) > 100', traffic())).toBe(false);
    // Only the divisor range matters: no 2xx at all is still "nothing to divide by".
    expect(tripped('ResponseCodeRatio(500, 600, 200, 300) > 0.5', traffic([3, 500]))).toBe(false);
  });

  it('uses half-open code ranges [from, to)', () => {
    expect(tripped('ResponseCodeRatio(500, 600, 0, 600) > 0.5', traffic([1, 600], [1, 200]))).toBe(false);
    expect(tripped('ResponseCodeRatio(400, 500, 0, 600) >= 0.5', traffic([1, 400], [1, 200]))).toBe(true);
    expect(tripped('ResponseCodeRatio(400, 500, 0, 600) >= 0.5', traffic([1, 500], [1, 200]))).toBe(false);
  });

  it('counts 502 and 504 as network errors', () => {
    const w = traffic([7, 200], [1, 502], [1, 504], [1, 500]);
    expect(evaluateCircuitBreaker(parsed('NetworkErrorRatio() > 0.1'), w)).toEqual({
      tripped: true,
      detail: 'NetworkErrorRatio() = 0.20 > 0.1 (2 of 10 responses were 502/504)',
    });
    expect(tripped('NetworkErrorRatio() > 0.2', w)).toBe(false);
  });

  it('estimates latency quantiles from the histogram', () => {
    // 10 fast (≤100ms) and 10 slow (300ms–1.2s) requests: the median sits at the first bound.
    const w = traffic([10, 200, 50], [10, 200, 800]);
    expect(evaluateCircuitBreaker(parsed('LatencyAtQuantileMS(50.0) > 100'), w)).toEqual({
      tripped: false,
      detail: 'LatencyAtQuantileMS(50) = 100ms, not > 100 (20 requests)',
    });
    expect(tripped('LatencyAtQuantileMS(90) > 1000', w)).toBe(true);
    expect(tripped('LatencyAtQuantileMS(90) > 1050', w)).toBe(false);
  });

  it('evaluates && and || with && first, and names the parts that decided', () => {
    const w = traffic([6, 200], [4, 502]);
    const hi = 'NetworkErrorRatio() > 0.3';
    const lo = 'NetworkErrorRatio() > 0.9';
    expect(tripped(`${hi} && ${lo}`, w)).toBe(false);
    expect(tripped(`${hi} || ${lo}`, w)).toBe(true);
    // hi || lo && lo is hi || (lo && lo): true; read left to right, (hi || lo) && lo, it would be false.
    expect(tripped(`${hi} || ${lo} && ${lo}`, w)).toBe(true);
    expect(tripped(`(${hi} || ${lo}) && ${lo}`, w)).toBe(false);
    expect(tripped(`(${lo} || ${hi}) && ${hi}`, w)).toBe(true);
    expect(tripped(`${hi} && ${lo} || ${hi}`, w)).toBe(true);

    expect(evaluateCircuitBreaker(parsed(`${hi} && ${lo}`), w).detail).toBe('NetworkErrorRatio() = 0.40, not > 0.9 (4 of 10 responses were 502/504)');
    expect(evaluateCircuitBreaker(parsed(`${lo} || ${hi}`), w).detail).toBe('NetworkErrorRatio() = 0.40 > 0.3 (4 of 10 responses were 502/504)');
    expect(evaluateCircuitBreaker(parsed(`${lo} || ${lo}`), w).detail).toBe(
      'NetworkErrorRatio() = 0.40, not > 0.9 (4 of 10 responses were 502/504); NetworkErrorRatio() = 0.40, not > 0.9 (4 of 10 responses were 502/504)',
    );
  });

  it('compares with == and != exactly', () => {
    const w = traffic([1, 200], [1, 500]);
    expect(tripped('ResponseCodeRatio(500, 600, 0, 600) == 0.5', w)).toBe(true);
    expect(tripped('ResponseCodeRatio(500, 600, 0, 600) != 0.5', w)).toBe(false);
    expect(tripped('ResponseCodeRatio(500, 600, 0, 600) < 0.6', w)).toBe(true);
  });
});

describe('latencyAtQuantile', () => {
  it('interpolates inside the bucket and caps at the last finite bound', () => {
    const buckets = [
      { leSeconds: 0.1, count: 0 },
      { leSeconds: 0.3, count: 10 },
      { leSeconds: Infinity, count: 20 },
    ];
    expect(latencyAtQuantile(buckets, 25).ms).toBeCloseTo(200);
    expect(latencyAtQuantile(buckets, 99)).toEqual({ ms: 300, requests: 20 });
    expect(latencyAtQuantile([], 50)).toEqual({ ms: 0, requests: 0 });
  });
});
