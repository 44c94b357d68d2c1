import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, DEFAULT_UPDATE_CONFIG, type UpdateConfig } from '../../src/model/desired.js';
import type { Health } from '../../src/model/live.js';
import type { ServiceRollingOp } from '../../src/model/plan.js';
import { rollingUpdate } from '../../src/rollout/rolling.js';
import { RolloutFailure } from '../../src/rollout/types.js';
import { fakeEngine, type FakeContainer } from '../support/fake-docker.js';
import { recordingDocker } from '../support/recording-docker.js';
import { serviceSpec } from '../support/service-spec.js';

/** Three replicas of shop/web on app:v1 in a fake engine, and the rolling op that moves them to app:v2. */
function setup(update: Partial<UpdateConfig> = {}, health: (c: FakeContainer) => Health = () => 'healthy', strategy: 'start-first' | 'recreate' = 'start-first') {
  const engine = fakeEngine(health);
  const olds = [1, 2, 3].map((k) => engine.add(`shop-web-${k}`, 'app:v1'));
  const calls: string[] = [];
  const docker = recordingDocker(engine.docker, calls);
  const op: ServiceRollingOp = {
    kind: 'service.rolling',
    id: 'service:shop/web',
    wave: 'apps',
    action: 'recreate',
    stack: 'shop',
    object: 'shop/web',
    reasons: ['image app:v1 → app:v2'],
    after: [],
    service: serviceSpec({ image: 'app:v2', replicas: 3 }),
    pull: false,
    strategy,
    update: { ...DEFAULT_UPDATE_CONFIG, ...update },
    steps: olds.map((c, i) => ({ replica: i + 1, containerName: c.name, old: { id: c.id, name: c.name }, reasons: ['image app:v1 → app:v2'] })),
  };
  const progress: string[] = [];
  const ctx = {
    docker,
    clock: engine.clock,
    settings: { ...DEFAULT_SETTINGS, rollout: { ...DEFAULT_SETTINGS.rollout, drainSeconds: 1, healthTimeoutSeconds: 5 } },
    labels: () => ({}),
    progress: (m: string) => progress.push(m),
  };
  /** name → image of every container, sorted by name. */
  const host = () => Object.fromEntries([...engine.containers.values()].map((c) => [c.name, `${c.image}${c.running ? '' : ' (stopped)'}`]).sort());
  return { engine, olds, calls, op, ctx, progress, host, run: () => rollingUpdate(op, ctx) };
}

const failing = (name: string) => (c: FakeContainer): Health => (c.name === name ? 'unhealthy' : 'healthy');

async function failure(p: Promise<unknown>): Promise<RolloutFailure> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(RolloutFailure);
  return e as RolloutFailure;
}

describe('rolling update over replicas', () => {
  it('replaces one replica at a time, start-first, and removes the old containers once all moved', async () => {
    const s = setup();
    const report = await s.run();
    expect(report).toMatchObject({ strategy: 'start-first', result: 'succeeded' });
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v2', 'shop-web-2': 'app:v2', 'shop-web-3': 'app:v2' });
    const steps = s.calls.filter((c) => /^(createContainer|renameContainer|stopContainer|removeContainer)/.test(c));
    const ids = s.olds.map((c) => c.id);
    // (recordingDocker names a createContainer by the replica's spec.) Replica 2's new container is created only after replica 1 is promoted; old ones are kept until the end.
    const created2 = steps.indexOf('createContainer shop-web-2');
    expect(steps.indexOf(`renameContainer ${ids[0]}`)).toBeLessThan(created2);
    expect(steps.slice(-3)).toEqual(ids.map((id) => `removeContainer ${id}`));
    expect(s.progress.filter((m) => m.startsWith('replacing'))).toEqual(['replacing #1 of 3 (start-first)', 'replacing #2 of 3 (start-first)', 'replacing #3 of 3 (start-first)']);
  });

  it('a failure on replica 2 rolls replica 1 back: all three end on the old image, same containers', async () => {
    const s = setup({}, failing('shop-web-2_berth_tmp'));
    const e = await failure(s.run());
    expect(e.report()).toMatchObject({ strategy: 'start-first', result: 'rolled_back', gate: 'unhealthy' });
    expect(e.message).toMatch(/replica #2 .*unhealthy.*rolled back #1/);
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v1', 'shop-web-2': 'app:v1', 'shop-web-3': 'app:v1' });
    expect([1, 2, 3].map((k) => s.engine.byName(`shop-web-${k}`)!.id)).toEqual(s.olds.map((c) => c.id));
    // Replica 3 was never touched.
    expect(s.calls.some((c) => c === 'createContainer shop-web-3')).toBe(false);
    // The restored old container started (and proved ready) before the new replica 1 was stopped.
    const start = s.calls.indexOf(`startContainer ${s.olds[0]!.id}`);
    const stopNew = s.calls.findIndex((c, i) => i > start && c.startsWith('stopContainer') && !s.olds.some((o) => c.endsWith(o.id)));
    expect(start).toBeGreaterThan(0);
    expect(stopNew).toBeGreaterThan(start);
  });

  it('parallelism 2: replicas 1 and 2 together, then 3; delay between batches', async () => {
    const s = setup({ parallelism: 2, delayMs: 3000 });
    await s.run();
    expect(s.progress.filter((m) => m.startsWith('replacing'))).toEqual(['replacing #1, #2 of 3 (start-first)', 'replacing #3 of 3 (start-first)']);
    expect(s.calls.indexOf('createContainer shop-web-2')).toBeLessThan(s.calls.indexOf(`stopContainer ${s.olds[0]!.id}`));
    expect(s.engine.clock.slept).toContain(3000);
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v2', 'shop-web-2': 'app:v2', 'shop-web-3': 'app:v2' });
  });

  it('parallelism 0 replaces all replicas at once', async () => {
    const s = setup({ parallelism: 0 });
    await s.run();
    expect(s.progress.filter((m) => m.startsWith('replacing'))).toEqual(['replacing #1, #2, #3 of 3 (start-first)']);
  });

  it('failure_action pause: stops at the failed replica, keeps what was replaced', async () => {
    const s = setup({ failureAction: 'pause' }, failing('shop-web-2_berth_tmp'));
    const e = await failure(s.run());
    expect(e.report()).toMatchObject({ result: 'failed', gate: 'unhealthy' });
    expect(e.message).toMatch(/paused.*1 of 3 replicas run the new revision/);
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v2', 'shop-web-2': 'app:v1', 'shop-web-3': 'app:v1' });
  });

  it('failure_action continue: the other replicas still move; the failed one keeps the old revision', async () => {
    const s = setup({ failureAction: 'continue' }, failing('shop-web-2_berth_tmp'));
    const e = await failure(s.run());
    expect(e.report()).toMatchObject({ result: 'failed' });
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v2', 'shop-web-2': 'app:v1', 'shop-web-3': 'app:v2' });
  });

  it('max_failure_ratio tolerates failed replicas: the rollout succeeds with a note', async () => {
    const s = setup({ failureAction: 'continue', maxFailureRatio: 0.34 }, failing('shop-web-2_berth_tmp'));
    const report = await s.run();
    expect(report.result).toBe('succeeded');
    expect(report.notes?.join(' ')).toMatch(/#2 failed and kept the old revision/);
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v2', 'shop-web-2': 'app:v1', 'shop-web-3': 'app:v2' });
  });

  it('monitor: a replica that turns unhealthy after it was promoted is a failure; rollback restores it', async () => {
    // Healthy through its rollout, unhealthy when the monitor looks again.
    const health = (c: FakeContainer): Health => (c.image === 'app:v2' && c.name === 'shop-web-1' && c.inspects > 3 ? 'unhealthy' : 'healthy');
    const s = setup({ monitorMs: 2000 }, health);
    const e = await failure(s.run());
    expect(e.report()).toMatchObject({ result: 'rolled_back', gate: 'monitor' });
    expect(s.engine.clock.slept).toContain(2000);
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v1', 'shop-web-2': 'app:v1', 'shop-web-3': 'app:v1' });
  });

  it('stop-first (recreate): each old replica stops before its new one is created; rollback restarts the old ones', async () => {
    const s = setup({}, failing('shop-web-3'), 'recreate');
    // The new replica 3 takes the canonical name at once under recreate, so "shop-web-3" unhealthy = the new one.
    const e = await failure(s.run());
    expect(e.report()).toMatchObject({ strategy: 'recreate', result: 'rolled_back' });
    const c = s.calls;
    expect(c.indexOf(`stopContainer ${s.olds[0]!.id}`)).toBeLessThan(c.indexOf('createContainer shop-web-1'));
    expect(s.host()).toEqual({ 'shop-web-1': 'app:v1', 'shop-web-2': 'app:v1', 'shop-web-3': 'app:v1' });
    expect([1, 2, 3].map((k) => s.engine.byName(`shop-web-${k}`)!.id)).toEqual(s.olds.map((o) => o.id));
  });
});
