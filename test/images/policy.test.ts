import { describe, expect, it } from 'vitest';
import { newestFittingTag, parseImagePolicy, type ImagePolicy } from '../../src/images/policy.js';

const policy = (v: unknown): ImagePolicy => {
  const p = parseImagePolicy(v);
  if (!('policy' in p)) throw new Error(p.message);
  return p.policy;
};

describe('newestFittingTag', () => {
  it('semver: the newest tag inside the range and newer than the current one', () => {
    const p = policy({ semver: '^1.4' });
    expect(newestFittingTag('1.4.0', ['1.4.0', '1.5.0', '1.4.9', '2.0.0', 'latest', '1.6.0-rc.1'], p)).toBe('1.5.0');
    expect(newestFittingTag('1.5.0', ['1.4.0', '1.5.0', '2.0.0'], p)).toBeNull();
    expect(newestFittingTag('v1.4.0', ['v1.4.0', 'v1.4.2'], p)).toBe('v1.4.2');
  });
  it('semver: a current tag that is no version is never replaced', () => {
    expect(newestFittingTag('latest', ['1.5.0'], policy({ semver: '^1.4' }))).toBeNull();
  });
  it('pattern: numerical order of the capture, whole tags only', () => {
    const p = policy({ pattern: 'build-(\\d+)', order: 'numerical' });
    expect(newestFittingTag('build-9', ['build-10', 'build-8', 'build-100x', 'xbuild-200'], p)).toBe('build-10');
  });
  it('pattern: alphabetical order of the whole tag', () => {
    const p = policy({ pattern: '2026-\\d\\d-\\d\\d', order: 'alphabetical' });
    expect(newestFittingTag('2026-01-05', ['2026-02-01', '2026-01-31', '2025-12-31'], p)).toBe('2026-02-01');
  });
  it('rejects a range or an expression that does not parse', () => {
    expect(parseImagePolicy({ semver: 'one' })).toMatchObject({ key: 'semver' });
    expect(parseImagePolicy({ pattern: '(' })).toMatchObject({ key: 'pattern' });
    expect(parseImagePolicy({})).toMatchObject({ key: 'semver' });
  });
});
