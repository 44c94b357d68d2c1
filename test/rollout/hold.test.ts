import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build-plan.js';
import { withoutHeldRollouts } from '../../src/rollout/hold.js';
import { appliedFor, liveFor, loadOk, withInventory } from '../support/plan-fixtures.js';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'desired-state');

describe('withoutHeldRollouts', () => {
  const before = loadOk(EXAMPLE);
  const after = loadOk(EXAMPLE, { WEB_GREETING: 'changed-greeting-value' });
  const live = liveFor(before);
  const plan = buildPlan(after, live, withInventory(appliedFor(before), live), 'rev2');

  it('leaves the plan alone when nothing is held', () => {
    expect(withoutHeldRollouts(plan, new Set(), live)).toEqual({ plan, held: [] });
    expect(withoutHeldRollouts(plan, undefined, live).plan).toBe(plan);
  });

  it('drops the held service’s replacement and says why', () => {
    const r = withoutHeldRollouts(plan, new Set(['web/web']), live);
    expect(r.held.map((o) => o.id)).toEqual(['service:web/web']);
    expect(r.plan.ops).toEqual([]);
    expect(r.plan.summary).toEqual({ create: 0, recreate: 0, update: 0, remove: 0 });
    expect(r.plan.warnings.join('\n')).toMatch(/web\/web: its rollout at this revision was rolled back; not retried until a new commit/);
  });

  it('still starts the held old container when it was stopped (drift of the old version is repaired)', () => {
    const stopped = { ...live, containers: live.containers.map((c) => (c.name === 'web-web-1' ? { ...c, state: 'exited' as const, status: 'Exited (0)' } : c)) };
    const p = buildPlan(after, stopped, withInventory(appliedFor(before), stopped), 'rev2');
    const r = withoutHeldRollouts(p, new Set(['web/web']), stopped);
    expect(r.plan.ops.map((o) => [o.kind, o.object])).toEqual([['service.start', 'web/web']]);
    expect(r.plan.ops[0]!.reasons[0]).toMatch(/held at the previous version/);
  });

  it('holds only what it is told: other services still deploy', () => {
    const r = withoutHeldRollouts(plan, new Set(['api/api']), live);
    expect(r.plan.ops.map((o) => o.id)).toEqual(['service:web/web']);
    expect(r.held).toEqual([]);
  });
});
