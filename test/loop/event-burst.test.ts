import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBurst } from '../../src/loop/event-burst.js';

describe('EventBurst', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires once, quietMs after the last event, with the distinct reasons', () => {
    const fired: string[][] = [];
    const b = new EventBurst(50, 2000, (r) => fired.push(r));
    b.add('die');
    vi.advanceTimersByTime(40);
    b.add('destroy');
    b.add('die');
    expect(b.pending).toBe(true);
    vi.advanceTimersByTime(49);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['die', 'destroy']]);
    expect(b.pending).toBe(false);
  });

  it('a burst that never goes quiet fires maxWaitMs after its first event; cancel drops it', () => {
    const fired: string[][] = [];
    const b = new EventBurst(300, 1000, (r) => fired.push(r));
    for (let t = 0; t < 1000; t += 100) {
      b.add(`e${t}`);
      vi.advanceTimersByTime(100);
    }
    expect(fired).toHaveLength(1);
    expect(fired[0]).toHaveLength(10);
    b.add('late');
    b.cancel();
    vi.advanceTimersByTime(5000);
    expect(fired).toHaveLength(1);
    expect(b.pending).toBe(false);
  });
});
