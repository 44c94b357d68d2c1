import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PullWatchdog } from '../../src/adapters/pull-watchdog.js';

/** The bounds of one pull, on fake timers: a stall (reset by progress) and a total cap. */
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PullWatchdog', () => {
  it('expires after stallMs without progress; each progress event starts the stall clock again', () => {
    const w = new PullWatchdog({ stallMs: 2000 });
    const seen: string[] = [];
    w.whenExpired((why) => seen.push(why));
    vi.advanceTimersByTime(1500);
    w.progress();
    vi.advanceTimersByTime(1500);
    w.progress();
    vi.advanceTimersByTime(1999);
    expect(w.expired).toBeNull();
    expect(w.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['timed out: no progress for 2s (images.pullStallSeconds)']);
    expect(w.signal.aborted).toBe(true);
    // Later events change nothing.
    w.progress();
    vi.advanceTimersByTime(10_000);
    expect(seen).toHaveLength(1);
  });

  it('expires after timeoutMs however much progress there is', () => {
    const w = new PullWatchdog({ stallMs: 1000, timeoutMs: 5000 });
    for (let i = 0; i < 9; i++) {
      vi.advanceTimersByTime(500);
      w.progress();
    }
    expect(w.expired).toBeNull();
    vi.advanceTimersByTime(500);
    expect(w.expired).toBe('timed out after 5s (images.pullTimeoutSeconds)');
  });

  it('0 or absent: unbounded; done() leaves no timer behind', () => {
    const off = new PullWatchdog({ stallMs: 0, timeoutMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(86_400_000);
    expect(off.expired).toBeNull();
    const w = new PullWatchdog({ stallMs: 1000, timeoutMs: 5000 });
    expect(vi.getTimerCount()).toBe(2);
    w.done();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(w.expired).toBeNull();
  });

  it('a listener added after expiry is told at once', () => {
    const w = new PullWatchdog({ stallMs: 1500 });
    vi.advanceTimersByTime(1500);
    const seen: string[] = [];
    w.whenExpired((why) => seen.push(why));
    expect(seen).toEqual(['timed out: no progress for 1.5s (images.pullStallSeconds)']);
  });
});
