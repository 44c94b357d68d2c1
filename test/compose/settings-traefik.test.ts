import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { removeRepo, tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const STACK = { 'stacks/web/compose.yaml': 'services:\n  web: {image: app:v1}\n' };

function load(berthYaml: string, env: Record<string, string> = {}) {
  const root = tmpRepo({ ...STACK, 'berth.yaml': berthYaml });
  try {
    return loadDesiredState(root, { env, validators });
  } finally {
    removeRepo(root);
  }
}

const located = (r: ReturnType<typeof load>) => r.diagnostics.map((d) => [d.line, d.col, d.code, d.message]);

describe('berth.yaml traefik section', () => {
  it('accepts a valid api and expression, with the default expression when none is given', () => {
    const r = load('traefik:\n  api: http://ops:pw@traefik:8080\n  circuitBreaker: NetworkErrorRatio() > 0.3 || LatencyAtQuantileMS(99) > 500\n');
    expect(r.diagnostics).toEqual([]);
    expect(r.state!.settings.traefik).toEqual({ api: 'http://ops:pw@traefik:8080', circuitBreaker: 'NetworkErrorRatio() > 0.3 || LatencyAtQuantileMS(99) > 500' });
    expect(load('traefik: {api: "http://traefik:8080"}\n').state!.settings.traefik!.circuitBreaker).toBe('ResponseCodeRatio(500, 600, 0, 600) > 0.25');
  });

  it('points at the offending character of a plain or single-quoted expression', () => {
    // "  circuitBreaker: " is 18 columns; the expression starts at column 19.
    expect(located(load('traefik:\n  api: http://t:8080\n  circuitBreaker: NetworkErrorRatio() >> 1\n'))).toEqual([
      [3, 19 + 21, 'circuit-breaker', 'invalid circuit-breaker expression: expected a number after ">", found ">" (column 22 of the expression)'],
    ]);
    expect(located(load("traefik:\n  api: http://t:8080\n  circuitBreaker: 'Latency(50) > 1'\n"))).toEqual([
      [3, 20, 'circuit-breaker', 'invalid circuit-breaker expression: unknown function Latency; expected one of ResponseCodeRatio, NetworkErrorRatio, LatencyAtQuantileMS (column 1 of the expression)'],
    ]);
  });

  it('points at the value when interpolation or escapes make source and expression differ', () => {
    const r = load('traefik:\n  api: http://t:8080\n  circuitBreaker: "${CB}"\n', { CB: 'NetworkErrorRatio() > ' });
    expect(located(r)).toEqual([[3, 19, 'circuit-breaker', 'invalid circuit-breaker expression: expected a number after ">", found the end of the expression (column 23 of the expression)']]);
    expect(located(load('traefik:\n  api: http://t:8080\n  circuitBreaker: "NetworkErrorRatio() \\x3e"\n'))[0]!.slice(0, 2)).toEqual([3, 19]);
  });

  it('rejects an api that is not an http(s) URL without quoting it', () => {
    const r = load('traefik:\n  api: ops:s3cret@traefik:8080\n');
    expect(located(r)).toEqual([[2, 8, 'traefik-api-url', "must be an http:// or https:// URL (the address of Traefik's API entrypoint)"]]);
    expect(JSON.stringify(r.diagnostics)).not.toContain('s3cret');
  });
});
