import { describe, expect, it } from 'vitest';
import { fakeTimeEachTest, pass, swarmRig } from './swarm-controller-rig.js';

/**
 * Drift told once when it appears and once when it ends, also when the hand
 * change lands while a pass is already planning: that pass's look after it
 * finds the drift first and must tell it (it was once opened silently, and
 * chat heard only "resolved" — the red CI of stop 23).
 */
describe('SwarmController: drift seen by the look after a pass', () => {
  let r: ReturnType<typeof swarmRig> | undefined;
  fakeTimeEachTest(() => r);

  it('a hand change while the pass plans is told as appeared by that pass, then resolved by the heal', async () => {
    r = swarmRig({ intervalMs: 3_600_000 });
    await pass(r.controller, 'startup');
    expect(r.controller.status().lastResult?.outcome).toBe('converged');
    expect(r.drift).toEqual([]);

    const { manager } = r;
    manager.whilePlanning = () => {
      manager.whilePlanning = null;
      manager.handUpdateImage('shop_web', 'acme/web:hand');
    };
    await pass(r.controller, 'swarm:service:update');
    // The plan was made before the change: nothing applied, and the look after it tells the drift.
    expect(r.controller.status().lastResult?.outcome).toBe('in-sync');
    expect(r.drift.map((d) => [d.appeared.map((a) => a.item.id), d.resolved.map((x) => x.item.id)])).toEqual([[['shop/service/web/modified'], []]]);
    expect(r.drift[0]!.appeared[0]!.item.found).toBe('changed by hand: image acme/web:1 → acme/web:hand');

    await pass(r.controller, 'swarm:service:update');
    expect(r.manager.calls.filter((c) => c.startsWith('service.update'))).toHaveLength(1);
    expect(r.drift.map((d) => [d.appeared.map((a) => a.item.id), d.resolved.map((x) => `${x.item.id} ${x.resolution}`)])).toEqual([
      [['shop/service/web/modified'], []],
      [[], ['shop/service/web/modified healed']],
    ]);
  });
});
