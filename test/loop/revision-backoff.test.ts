import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RevisionBackoff } from '../../src/loop/revision-backoff.js';
import { systemClock } from '../../src/ports/clock.js';

describe('RevisionBackoff', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 }));
  afterEach(() => void vi.useRealTimers());

  it('waits 1/16 of the interval, doubling, never more than the interval; its own retry and other revisions never wait', async () => {
    let retries = 0;
    const b = new RevisionBackoff(systemClock, 16_000, () => void retries++);
    expect(b.waiting('r1', ['webhook'])).toBeNull();
    expect(b.failedAt('r1').delayMs).toBe(1_000);
    expect(b.waiting('r1', ['webhook'])).toEqual({ until: new Date(1_000).toISOString() });
    expect(b.waiting('r1', ['retry'])).toBeNull();
    expect(b.waiting('r2', ['webhook'])).toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(retries).toBe(1);
    expect(b.waiting('r1', ['webhook'])).toBeNull();
    expect([2, 3, 4, 5, 6].map(() => b.failedAt('r1').delayMs)).toEqual([2_000, 4_000, 8_000, 16_000, 16_000]);
    expect(b.status()).toMatchObject({ revision: 'r1', attempts: 6 });
    expect(b.failedAt('r2')).toEqual({ attempts: 1, delayMs: 1_000 });
  });

  it('clear() ends the wait and the pending retry; a stopped controller sets no timer', async () => {
    let retries = 0;
    const b = new RevisionBackoff(systemClock, 16_000, () => void retries++);
    b.failedAt('r1');
    b.clear();
    expect(b.status()).toBeNull();
    b.failedAt('r1', true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(retries).toBe(0);
  });
});
