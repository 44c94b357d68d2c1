import { describe, expect, it, vi } from 'vitest';
import { fakeTimeEachTest, settled, pass, swarmRig } from './swarm-controller-rig.js';

/**
 * A swarm host whose manager refuses a create: the revision is retried after
 * its backoff (1/16 of the interval, doubling), not by every event that
 * arrives meanwhile — and a pass that converges ends the backoff.
 */
const INTERVAL_MS = 160_000;

function rig() {
  const r = swarmRig({ intervalMs: INTERVAL_MS });
  r.manager.refuseCreate = true;
  const creates = () => r.manager.calls.filter((c) => c.startsWith('service.create')).length;
  return { ...r, creates };
}

describe('SwarmController: a failed apply waits out its backoff', () => {
  let r: ReturnType<typeof rig> | undefined;
  fakeTimeEachTest(() => r);

  it('events meanwhile do not retry it; its own pass does, twice as late the second time; converging ends it', async () => {
    r = rig();
    await pass(r.controller, 'startup');
    expect(r.creates()).toBe(1);
    expect(r.controller.status().backoff).toMatchObject({ revision: 'a'.repeat(40), attempts: 1 });

    for (let i = 0; i < 5; i++) await pass(r.controller, 'swarm:service:update');
    expect(r.creates()).toBe(1);
    expect(r.lines.filter((l) => l === 'revision failed before; waiting for its backoff')).toHaveLength(5);

    await vi.advanceTimersByTimeAsync(INTERVAL_MS / 16);
    await settled(r.controller);
    expect(r.creates()).toBe(2);
    expect(r.controller.status().backoff).toMatchObject({ attempts: 2 });

    r.manager.refuseCreate = false;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS / 16);
    await pass(r.controller, 'swarm:service:update');
    expect(r.creates()).toBe(2);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS / 16);
    await settled(r.controller);
    expect(r.creates()).toBe(3);
    expect(r.controller.status().backoff).toBeNull();
    expect(r.controller.status().lastResult?.outcome).toBe('converged');
  });
});
