import { describe, expect, it } from 'vitest';
import { checkDue, pullSchedule, scheduleOf } from '../../src/registry/pull-schedule.js';
import { parsePullPolicy } from '../../src/compose/pull-policy.js';
import { refsToCheck } from '../../src/registry/image-facts.js';
import type { Clock } from '../../src/ports/clock.js';
import type { DesiredState } from '../../src/model/desired.js';

const H = 3600_000;

/** A clock that moves only when told. */
function fakeClock(start: number): Clock & { advance(ms: number): void } {
  let t = start;
  return { now: () => t, sleep: async (ms) => void (t += ms), advance: (ms) => void (t += ms) };
}

describe('pull schedules', () => {
  it('parses Compose pull policies into schedules', () => {
    expect(pullSchedule('always')).toEqual({ kind: 'always' });
    expect(pullSchedule('never')).toEqual({ kind: 'never' });
    expect(pullSchedule('missing')).toEqual({ kind: 'missing' });
    expect(pullSchedule('if_not_present')).toEqual({ kind: 'missing' });
    expect(pullSchedule('build')).toEqual({ kind: 'build' });
    expect(scheduleOf({ pullPolicy: 'build' })).toEqual({ kind: 'build' });
    expect(pullSchedule('daily')).toEqual({ kind: 'interval', ms: 24 * H });
    expect(pullSchedule('weekly')).toEqual({ kind: 'interval', ms: 7 * 24 * H });
    expect(pullSchedule('every_12h')).toEqual({ kind: 'interval', ms: 12 * H });
    expect(pullSchedule('every_1h30m')).toEqual({ kind: 'interval', ms: 1.5 * H });
    expect(pullSchedule('every_nonsense')).toEqual({ kind: 'missing' });
  });

  it('daily re-checks only after its window, on a fake clock', () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1));
    const daily = pullSchedule('daily');
    expect(checkDue(daily, undefined, clock.now())).toBe(true);
    const last = clock.now();
    clock.advance(23 * H);
    expect(checkDue(daily, last, clock.now())).toBe(false);
    clock.advance(H);
    expect(checkDue(daily, last, clock.now())).toBe(true);
    expect(checkDue(pullSchedule('missing'), undefined, clock.now())).toBe(false);
    expect(checkDue(pullSchedule('always'), clock.now(), clock.now())).toBe(true);
    expect(checkDue(pullSchedule('build'), undefined, clock.now())).toBe(false);
  });

  it('refsToCheck: due tags only, every tag with --refresh, never a digest reference', () => {
    const svc = (image: string, pullPolicy: string) => ({ image, pullPolicy }) as unknown as DesiredState['stacks'][number]['services'][number];
    const desired = {
      stacks: [{ services: [svc('r.io/a:1', 'daily'), svc('r.io/b:1', 'missing'), svc('r.io/c:1', 'always'), svc('r.io/d@sha256:ab', 'always')] }],
    } as unknown as DesiredState;
    const now = Date.UTC(2026, 0, 2);
    expect(refsToCheck(desired, { 'r.io/a:1': now - H }, now, false)).toEqual(['r.io/c:1']);
    expect(refsToCheck(desired, { 'r.io/a:1': now - 25 * H }, now, false)).toEqual(['r.io/a:1', 'r.io/c:1']);
    expect(refsToCheck(desired, {}, now, true)).toEqual(['r.io/a:1', 'r.io/b:1', 'r.io/c:1']);
    // A built content tag lives on this host only: not asked even with --refresh.
    const built = { stacks: [{ services: [{ image: 'berth.local/s-app:0123456789ab', pullPolicy: 'build', build: { tag: 'berth.local/s-app:0123456789ab' } }] }] } as unknown as DesiredState;
    expect(refsToCheck(built, {}, now, true)).toEqual([]);
  });
});

describe('pull schedules from the Compose model', () => {
  it('reads pullPolicy interval + pullIntervalSeconds, the one parse of pull_policy', () => {
    expect(scheduleOf({ pullPolicy: 'interval', pullIntervalSeconds: 86400 })).toEqual({ kind: 'interval', ms: 24 * H });
    expect(scheduleOf({ pullPolicy: 'missing' })).toEqual({ kind: 'missing' });
    const svc = (image: string, policy: string) => ({ image, ...parsePullPolicy(policy)! }) as unknown as DesiredState['stacks'][number]['services'][number];
    const desired = { stacks: [{ services: [svc('r.io/a:1', 'daily'), svc('r.io/b:1', 'every_2h'), svc('r.io/c:1', 'weekly')] }] } as unknown as DesiredState;
    const now = Date.UTC(2026, 0, 9);
    const times = { 'r.io/a:1': now - 25 * H, 'r.io/b:1': now - H, 'r.io/c:1': now - 6 * 24 * H };
    expect(refsToCheck(desired, times, now, false)).toEqual(['r.io/a:1']);
    expect(refsToCheck(desired, { ...times, 'r.io/b:1': now - 2 * H, 'r.io/c:1': now - 7 * 24 * H }, now, false)).toEqual(['r.io/a:1', 'r.io/b:1', 'r.io/c:1']);
  });
});
