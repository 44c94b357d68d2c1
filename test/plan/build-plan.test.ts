import { describe, expect, it } from 'vitest';
import { LABEL } from '../../src/labels.js';
import type { LiveState } from '../../src/model/live.js';
import type { NetworkRecreateOp, Op } from '../../src/model/plan.js';
import { buildPlan, summarize } from '../../src/plan/build-plan.js';
import { renderPlanJson, renderPlanText } from '../../src/plan/render.js';
import {
  appliedFor,
  containerFor,
  desiredFrom,
  emptyLive,
  findService,
  liveContainer,
  liveFor,
  liveNetwork,
  liveVolume,
  loadOk,
  managedLabels,
  stackRepo,
  withInventory,
} from '../support/plan-fixtures.js';

const EXAMPLE = 'desired-state';

describe('buildPlan', () => {
  describe('an environment value changed', () => {
    const before = loadOk(EXAMPLE);
    const after = loadOk(EXAMPLE, { WEB_GREETING: 'a-brand-new-greeting-value' });
    const plan = buildPlan(after, (liveFor(before)), withInventory(appliedFor(before), liveFor(before)), 'abc123');

    it('recreates only that service, naming the key', () => {
      expect(plan.errors).toEqual([]);
      expect(plan.ops.map((o) => [o.id, o.kind, o.reasons])).toEqual([
        ['service:web/web', 'service.recreate', ['env GREETING changed (value hidden)']],
      ]);
      expect(plan.summary).toEqual({ create: 0, recreate: 1, update: 0, remove: 0 });
      expect(plan.revision).toBe('abc123');
    });

    it('never shows the old or the new value, in the plan, its JSON or its text', () => {
      const oldValue = findService(before, 'web', 'web').environment.GREETING!;
      const newValue = findService(after, 'web', 'web').environment.GREETING!;
      expect(oldValue).toBe('hello from berth');
      expect(newValue).toBe('a-brand-new-greeting-value');
      const outputs = [JSON.stringify(plan), JSON.stringify(renderPlanJson(plan)), renderPlanText(plan)];
      for (const out of outputs) {
        expect(out).not.toContain(oldValue);
        expect(out).not.toContain(newValue);
      }
      // Every other secret of the example repo stays hidden too.
      for (const out of outputs) expect(out).not.toContain('example-not-a-secret');
      expect(JSON.stringify(buildPlan(after, (emptyLive()), withInventory(null, emptyLive()), null))).not.toContain('example-not-a-secret');
    });

    it('still hands apply the real values', () => {
      const op = plan.ops[0]!;
      expect(op.kind === 'service.recreate' && op.service.environment.GREETING).toBe('a-brand-new-greeting-value');
    });
  });

  it('an unmanaged squatter makes the plan an error; its ops are still listed', () => {
    const desired = loadOk(EXAMPLE);
    const live = emptyLive();
    live.containers.push(liveContainer({ name: 'web-web-1', id: 'deadbeefcafe0000', image: 'nginx:1.27' }));
    const plan = buildPlan(desired, (live), withInventory(null, live), null);
    expect(plan.errors).toEqual([
      {
        code: 'container-unmanaged',
        stack: 'web',
        object: 'web',
        message: 'container web-web-1 (id deadbeefcafe, image nginx:1.27) exists but is not managed by berth; remove or rename it, or give the service another container_name',
      },
    ]);
    expect(plan.ops.length).toBeGreaterThan(0);
    expect(plan.ops.some((o) => o.object === 'web/web')).toBe(false);
  });

  it('an internal change on a network a foreign container uses is an error naming the container', () => {
    const desired = loadOk(EXAMPLE);
    const live = liveFor(desired);
    live.networks = live.networks.map((n) => (n.name === 'backend' ? { ...n, internal: false } : n));
    live.containers.push(liveContainer({ name: 'adminer', id: '1234567890abcdef', image: 'adminer:4', networks: ['backend'] }));
    const plan = buildPlan(desired, (live), withInventory(appliedFor(desired), live), null);
    expect(plan.ops).toEqual([]);
    expect(plan.errors).toHaveLength(1);
    expect(plan.errors[0]).toMatchObject({ code: 'network-recreate-blocked', stack: 'infra', object: 'backend' });
    expect(plan.errors[0]!.message).toContain('adminer (id 1234567890ab, image adminer:4)');
  });

  describe('order and dependencies', () => {
    const repo = stackRepo({
      infra: `
services:
  pg:
    image: berth-test/postgres:18
    volumes: [pgdata:/var/lib/postgresql/data]
networks:
  shared: {name: shared}
volumes:
  pgdata: {name: pgdata}
`,
      app: `
services:
  a:
    image: berth-test/web:v1
    depends_on: {b: {condition: service_healthy}}
  b:
    image: berth-test/web:v1
    depends_on: {c: {condition: service_healthy}}
  c:
    image: berth-test/web:v1
    depends_on: {db: {condition: service_healthy}}
  db:
    image: berth-test/redis:7
  z:
    image: berth-test/web:v1
networks:
  default: {}
`,
    });
    const desired = desiredFrom(repo);

    const removedStack = (live: LiveState) => {
      live.containers.push(
        liveContainer({ name: 'old-api-1', image: 'berth-test/web:v1', labels: managedLabels('old', { [LABEL.service]: 'api' }), networks: ['old_default'] }),
        liveContainer({ name: 'old-pg-1', image: 'postgres:16', labels: managedLabels('old', { [LABEL.service]: 'pg' }), networks: ['old_default'] }),
      );
      live.networks.push(liveNetwork({ name: 'old_default', labels: managedLabels('old') }));
      live.volumes.push(liveVolume({ name: 'old_pgdata', labels: managedLabels('old') }));
      return live;
    };

    it('removals (apps, then databases) → networks → volumes → databases → apps (dependencies first) → network removals', () => {
      const plan = buildPlan(desired, (removedStack(emptyLive())), withInventory(null, removedStack(emptyLive())), null);
      expect(plan.errors).toEqual([]);
      expect(plan.ops.map((o) => [o.wave, o.kind, o.object])).toEqual([
        ['apps', 'service.remove', 'old/api'],
        ['databases', 'service.remove', 'old/pg'],
        ['networks', 'network.create', 'app_default'],
        ['networks', 'network.create', 'infra_default'],
        ['networks', 'network.create', 'shared'],
        ['volumes', 'volume.create', 'pgdata'],
        ['databases', 'service.create', 'app/db'],
        ['databases', 'service.create', 'infra/pg'],
        ['apps', 'service.create', 'app/c'],
        ['apps', 'service.create', 'app/b'],
        ['apps', 'service.create', 'app/a'],
        ['apps', 'service.create', 'app/z'],
        ['networks', 'network.remove', 'old_default'],
      ]);
    });

    it('fills `after` with the ops of depends_on services, across waves', () => {
      const plan = buildPlan(desired, (emptyLive()), withInventory(null, emptyLive()), null);
      const after = Object.fromEntries(plan.ops.map((o) => [o.id, o.after]));
      expect(after['service:app/a']).toEqual(['service:app/b']);
      expect(after['service:app/b']).toEqual(['service:app/c']);
      expect(after['service:app/c']).toEqual(['service:app/db']);
      expect(after['service:app/z']).toEqual([]);
      expect(after['service:infra/pg']).toEqual([]);
    });

    it('passes through a dependency that has no op of its own', () => {
      const live = liveFor(desired);
      live.containers = live.containers.filter((c) => c.name !== 'app-c-1');
      live.containers = live.containers.map((c) => (c.name === 'app-a-1' ? { ...c, state: 'exited' as const, status: 'Exited (137) 1 minute ago' } : c));
      const plan = buildPlan(desired, (live), withInventory(null, live), null);
      expect(plan.ops.map((o) => [o.id, o.after])).toEqual([
        ['service:app/c', []],
        ['service:app/a', ['service:app/c']],
      ]);
    });

    it('prunes a removed stack: its containers and networks go, its volumes stay', () => {
      const live = removedStack(liveFor(desired));
      const plan = buildPlan(desired, (live), withInventory(appliedFor(desired), live), null);
      expect(plan.ops.map((o) => [o.kind, o.id, o.reasons])).toEqual([
        ['service.remove', 'container:old-api-1', ['stack "old" is no longer in the repository']],
        ['service.remove', 'container:old-pg-1', ['stack "old" is no longer in the repository']],
        ['network.remove', 'network:old_default', ['stack "old" is no longer in the repository']],
      ]);
      expect(plan.ops.some((o) => o.kind.startsWith('volume'))).toBe(false);
      expect(plan.summary).toEqual({ create: 0, recreate: 0, update: 0, remove: 3 });
    });

    it('never prunes objects of a stack this host never applied (another berth, another state dir)', () => {
      const live = removedStack(liveFor(desired));
      const plan = buildPlan(desired, live, appliedFor(desired), null);
      expect(plan.ops).toEqual([]);
      expect(plan.warnings.join('\n')).toMatch(/old-api-1: managed by berth, but stack "old" was never applied/);
    });

    it('keeps a network to prune while a container that stays is attached', () => {
      const d = structuredClone(desired);
      d.settings.stacks.keep = { prune: false };
      const live = removedStack(liveFor(d));
      live.containers.push(liveContainer({ name: 'keep-x-1', labels: managedLabels('keep', { [LABEL.service]: 'x' }), networks: ['old_default'] }));
      const plan = buildPlan(d, (live), withInventory(null, live), null);
      expect(plan.ops.some((o) => o.kind === 'network.remove')).toBe(false);
      expect(plan.warnings).toContain('network old_default: stack "old" is no longer in the repository, but keep-x-1 stays attached; left in place');
    });

    it('does not reconnect a container the plan removes after a network recreate', () => {
      const live = liveFor(desired);
      live.networks = live.networks.map((n) => (n.name === 'shared' ? { ...n, internal: true } : n));
      live.containers = live.containers.map((c) => (c.name === 'infra-pg-1' ? { ...c, networks: [...c.networks, 'shared'] } : c));
      live.containers.push(liveContainer({ name: 'old-api-1', labels: managedLabels('old', { [LABEL.service]: 'api' }), networks: ['shared'] }));
      const plan = buildPlan(desired, (live), withInventory(null, live), null);
      const recreate = plan.ops.find((o) => o.kind === 'network.recreate') as NetworkRecreateOp;
      expect(recreate.reasons).toEqual(['internal true → false']);
      expect(recreate.attached).toEqual(['infra-pg-1']);
    });

    it('is deterministic and independent of the order Docker lists objects in', () => {
      const live = removedStack(liveFor(desired));
      live.containers = live.containers.filter((c) => c.name !== 'app-b-1');
      const a = buildPlan(desired, (live), withInventory(appliedFor(desired), live), 'r1');
      const b = buildPlan(desired, (live), withInventory(appliedFor(desired), live), 'r1');
      expect(b).toEqual(a);
      const shuffled: LiveState = {
        containers: [...live.containers].reverse(),
        networks: [...live.networks].reverse(),
        volumes: [...live.volumes].reverse(),
        imageTags: [...live.imageTags].reverse(),
      };
      const c = buildPlan({ ...desired, stacks: [...desired.stacks].reverse() }, shuffled, withInventory(appliedFor(desired), live), 'r1');
      expect(c).toEqual(a);
      expect(renderPlanText(c)).toBe(renderPlanText(a));
    });

    it('orders a depends_on cycle by name, with a warning (validation normally rejects it)', () => {
      const d = structuredClone(desired);
      const app = d.stacks.find((s) => s.name === 'app')!;
      app.services.find((s) => s.name === 'c')!.dependsOn.push({ service: 'a', condition: 'service_started', required: true, restart: false });
      const plan = buildPlan(d, (emptyLive()), withInventory(null, emptyLive()), null);
      expect(plan.ops.filter((o) => o.wave === 'apps').map((o) => o.object)).toEqual(['app/z', 'app/a', 'app/b', 'app/c']);
      expect(plan.warnings).toEqual(['depends_on cycle among app/a, app/b, app/c; ordered by name']);
    });
  });

  describe('summary', () => {
    it('counts create, recreate (services and networks), update (start, connect), remove (removals and cleanups)', () => {
      const desired = loadOk(EXAMPLE);
      const live = liveFor(desired);
      const svc = (name: string) => live.containers.find((c) => c.name === name)!;
      live.containers = live.containers.filter((c) => c.name !== 'infra-status-1');
      Object.assign(svc('api-worker-1'), { state: 'exited', status: 'Exited (1) 1 minute ago' });
      Object.assign(svc('web-web-1'), { networks: ['edge'] });
      svc('data-redis-1').labels[LABEL.configHash] = 'v1:ffff';
      live.networks = live.networks.map((n) => (n.name === 'observability' ? { ...n, driver: 'overlay' } : n));
      live.containers.push(containerFor(findService(desired, 'api', 'api'), { name: 'api-api-1_berth_tmp', state: 'created', status: 'Created' }));
      live.containers.push(liveContainer({ name: 'old-x-1', labels: managedLabels('old', { [LABEL.service]: 'x' }) }));
      const plan = buildPlan(desired, (live), withInventory(appliedFor(desired), live), null);
      expect(plan.errors).toEqual([]);
      expect(plan.ops.map((o) => [o.kind, o.object])).toEqual([
        ['container.cleanup', 'api-api-1_berth_tmp'],
        ['service.remove', 'old/x'],
        ['network.recreate', 'observability'],
        ['service.recreate', 'data/redis'],
        ['service.start', 'api/worker'],
        ['service.create', 'infra/status'],
        ['service.connect', 'web/web'],
      ]);
      expect(plan.summary).toEqual({ create: 1, recreate: 2, update: 2, remove: 2 });
      expect(summarize(plan.ops)).toEqual(plan.summary);
    });
  });

  it('never plans two ops with one id', () => {
    const desired = loadOk(EXAMPLE);
    const live = liveFor(desired);
    live.containers.push(liveContainer({ name: 'web-web-1_berth_old', labels: managedLabels('web', { [LABEL.service]: 'web' }) }));
    live.containers.push(liveContainer({ name: 'web-web-1_berth_tmp', labels: managedLabels('web', { [LABEL.service]: 'web' }) }));
    live.containers = live.containers.map((c) => (c.name === 'web-web-1' ? { ...c, labels: { ...c.labels, [LABEL.configHash]: 'v1:1' } } : c));
    live.networks.push(liveNetwork({ name: 'gone', labels: managedLabels('gone') }));
    const plans = [buildPlan(desired, (live), withInventory(null, live), null), buildPlan(desired, (emptyLive()), withInventory(null, emptyLive()), null)];
    for (const plan of plans) {
      const ids = plan.ops.map((o: Op) => o.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const op of plan.ops) expect(op.reasons.length).toBeGreaterThan(0);
    }
  });

  it('turns a duplicate op id (a hand-built state with one container name twice) into an error', () => {
    const desired = loadOk(EXAMPLE);
    const d = structuredClone(desired);
    const web = d.stacks.find((s) => s.name === 'web')!;
    web.services.push({ ...web.services[0]! });
    const plan = buildPlan(d, (emptyLive()), withInventory(null, emptyLive()), null);
    expect(plan.errors).toEqual([
      expect.objectContaining({ code: 'duplicate-op', stack: 'web', object: 'web/web' }),
    ]);
    expect(plan.ops.filter((o) => o.id === 'service:web/web')).toHaveLength(1);
  });
});
