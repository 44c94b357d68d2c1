import { describe, expect, it } from 'vitest';
import { buildAppliedRecord } from '../../src/apply/applied-record.js';
import { selfHealFor, withoutDriftRepairs } from '../../src/drift/self-heal.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { desiredFrom, liveFor, stackRepo } from '../support/plan-fixtures.js';

const repo = (berth: string, tag = 'v1') =>
  stackRepo(
    {
      web: `services:\n  web: {image: "berth-test/web:${tag}"}\n  legacy: {image: "berth-test/web:v1", x-berth: {selfHeal: true}}\n`,
    },
    berth,
  );

describe('self-heal policy', () => {
  it('resolves service over stack over policy', () => {
    const d = desiredFrom(repo('policy: {selfHeal: false}\nstacks: {web: {selfHeal: true}}\n'));
    const web = d.stacks[0]!.services.find((s) => s.name === 'web')!;
    expect(selfHealFor(d.settings, 'web', web)).toBe(true);
    expect(selfHealFor(d.settings, 'other')).toBe(false);
    const legacy = d.stacks[0]!.services.find((s) => s.name === 'legacy')!;
    expect(selfHealFor({ ...d.settings, stacks: { web: { selfHeal: false } } }, 'web', legacy)).toBe(true);
  });

  it('with self-heal off, holds the repair of a container stopped by hand but still deploys a commit', () => {
    const d = desiredFrom(repo('policy: {selfHeal: false}\n'));
    const applied = buildAppliedRecord(d, 'r1', 'x', 's', new Date(0));
    const live = liveFor(d);
    for (const c of live.containers) {
      c.state = 'exited';
      c.status = 'Exited (137) 1 minute ago';
    }
    const { plan, held } = withoutDriftRepairs(buildPlan(d, live, applied, 'r1'), d, applied);
    // legacy opts back in with x-berth.selfHeal: true.
    expect(plan.ops.map((o) => o.object)).toEqual(['web/legacy']);
    expect(held.map((o) => o.object)).toEqual(['web/web']);
    expect(plan.warnings.join('\n')).toMatch(/web\/web: self-heal is off; drift left as found/);

    const next = desiredFrom(repo('policy: {selfHeal: false}\n', 'v2'));
    const deploy = withoutDriftRepairs(buildPlan(next, live, applied, 'r2'), next, applied);
    expect(deploy.plan.ops.map((o) => `${o.object} ${o.action}`)).toContain('web/web recreate');
    expect(deploy.held).toEqual([]);
  });

  it('changes nothing when self-heal is on', () => {
    const d = desiredFrom(repo(''));
    const applied = buildAppliedRecord(d, 'r1', 'x', 's', new Date(0));
    const live = liveFor(d);
    live.containers = live.containers.filter((c) => c.name !== 'web-web-1');
    const raw = buildPlan(d, live, applied, 'r1');
    expect(withoutDriftRepairs(raw, d, applied)).toEqual({ plan: raw, held: [] });
  });
});
