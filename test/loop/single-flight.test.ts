import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../src/loop/single-flight.js';

describe('SingleFlight', () => {
  it('coalesces a burst of triggers during a run into exactly one follow-up, never overlapping', async () => {
    let active = 0;
    let maxActive = 0;
    const seen: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const flight = new SingleFlight(async (reasons) => {
      active++;
      maxActive = Math.max(maxActive, active);
      seen.push(reasons);
      if (seen.length === 1) await gate;
      await new Promise((r) => setTimeout(r, 5));
      active--;
    });
    flight.trigger('startup');
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 100; i++) flight.trigger(i % 2 ? 'webhook' : 'docker');
    release();
    await flight.idle();
    expect(flight.count).toBe(2);
    expect(maxActive).toBe(1);
    expect(seen).toEqual([['startup'], ['docker', 'webhook']]);
  });

  it('runs again for a trigger that arrives after the follow-up started', async () => {
    const flight = new SingleFlight(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
    flight.trigger('a');
    await new Promise((r) => setTimeout(r, 2));
    flight.trigger('b'); // queued behind a
    await new Promise((r) => setTimeout(r, 15)); // b is running now
    flight.trigger('c');
    await flight.idle();
    expect(flight.count).toBe(3);
  });
});
