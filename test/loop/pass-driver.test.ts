import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PassDriver } from '../../src/loop/pass-driver.js';
import { systemClock } from '../../src/ports/clock.js';

/** A driver whose passes end when the test says so. */
class Driver extends PassDriver {
  readonly passes: string[][] = [];
  private release: (() => void) | null = null;
  constructor() {
    super(systemClock, 60_000, { quietMs: 50, maxWaitMs: 500 });
  }
  protected runOnce(reasons: string[]): Promise<void> {
    this.passes.push(reasons);
    return new Promise((r) => (this.release = r));
  }
  finish(): void {
    this.release?.();
    this.release = null;
  }
  event(reason: string): void {
    this.eventBurst.add(reason);
  }
  stop(): void {
    this.halt();
  }
}

describe('PassDriver', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('tells chat what it does: events waiting, a pass in flight, idle; triggers meanwhile make one more pass', async () => {
    const d = new Driver();
    expect(d.activity()).toBe('idle');
    d.event('docker:die');
    d.event('docker:die');
    expect(d.activity()).toBe('events');
    expect(d.busy()).toBe(true);
    await vi.advanceTimersByTimeAsync(50);
    expect(d.activity()).toBe('pass');
    expect(d.passes).toEqual([['docker:die']]);
    d.trigger('webhook');
    d.trigger('interval');
    d.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(d.passes).toHaveLength(2);
    expect(d.passes[1]).toEqual(expect.arrayContaining(['webhook', 'interval']));
    d.finish();
    await d.idle();
    expect(d.activity()).toBe('idle');
    expect(d.reconciles).toBe(2);
    expect(d.deployed()).toBeNull();
  });

  it('after halt, neither triggers nor waiting events start a pass', async () => {
    const d = new Driver();
    d.event('docker:die');
    d.stop();
    d.trigger('webhook');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(d.passes).toEqual([]);
    expect(d.activity()).toBe('idle');
  });
});
