import { describe, expect, it } from 'vitest';
import { NO_IMAGE_INPUTS } from '../../controllers/image.js';
import { LABEL } from '../../src/labels.js';
import type { DesiredState, ServiceSpec } from '../../src/model/desired.js';
import type { LiveState } from '../../src/model/live.js';
import type { ServiceCreateOp, ServiceRemoveOp, ServiceRollingOp } from '../../src/model/plan.js';
import { replicaSpec } from '../../src/model/replicas.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { containerFor, desiredFrom, findService, liveFor, stackRepo, withInventory, appliedFor } from '../support/plan-fixtures.js';

/** A stack `web` with service `web` (and a dependent `api`) at `replicas` replicas. */
const compose = (o: { replicas: number; image?: string; ports?: string; update?: string; scale?: boolean }) => `
services:
  web:
    image: ${o.image ?? 'berth-test/web:v1'}
${o.scale ? `    scale: ${o.replicas}` : `    deploy:\n      replicas: ${o.replicas}\n${o.update ?? ''}`}
${o.ports ?? ''}
  api:
    image: berth-test/web:v1
    depends_on: [web]
`;

const load = (o: Parameters<typeof compose>[0]) => desiredFrom(stackRepo({ web: compose(o) }));

/** The host running `desired` with `n` replicas of web/web (replica k under its own name and number label). */
function hostWith(desired: DesiredState, n: number, spec: ServiceSpec = findService(desired, 'web', 'web')): LiveState {
  const live = liveFor(desired);
  live.containers = live.containers.filter((c) => c.labels[LABEL.service] !== 'web');
  for (let k = 1; k <= n; k++) {
    const r = replicaSpec(spec, k);
    live.containers.push(containerFor(r, { labels: { ...containerFor(r).labels, [LABEL.composeContainerNumber]: String(k) } }));
  }
  return live;
}

function plan(desired: DesiredState, live: LiveState, applied: DesiredState | null = null) {
  return buildPlan(desired, live, withInventory(applied ? appliedFor(applied) : null, live), 'rev');
}

const webOps = (p: ReturnType<typeof plan>) => p.ops.filter((o) => o.stack === 'web' && o.object.startsWith('web/web'));

describe('replicas: planning', () => {
  it('creates <stack>-<service>-1..N from scratch, one op per replica', () => {
    const d = load({ replicas: 3 });
    expect(findService(d, 'web', 'web').replicas).toBe(3);
    const p = plan(d, { containers: [], networks: [], volumes: [], imageTags: ['berth-test/web:v1'] });
    expect(p.errors).toEqual([]);
    const ops = webOps(p) as ServiceCreateOp[];
    expect(ops.map((o) => [o.id, o.object, o.service.containerName, o.reasons.join()])).toEqual([
      ['service:web/web#1', 'web/web#1', 'web-web-1', 'missing'],
      ['service:web/web#2', 'web/web#2', 'web-web-2', 'missing'],
      ['service:web/web#3', 'web/web#3', 'web-web-3', 'missing'],
    ]);
    // A dependent waits for every replica.
    const api = p.ops.find((o) => o.object === 'web/api')!;
    expect(api.after).toEqual(['service:web/web#1', 'service:web/web#2', 'service:web/web#3']);
  });

  it('`scale` means the same as deploy.replicas', () => {
    expect(findService(load({ replicas: 2, scale: true }), 'web', 'web').replicas).toBe(2);
  });

  it('a running service at its replica count plans nothing', () => {
    const d = load({ replicas: 3 });
    expect(plan(d, hostWith(d, 3), d).ops).toEqual([]);
  });

  it('scale up creates the missing numbers only', () => {
    const d = load({ replicas: 3 });
    const p = plan(d, hostWith(d, 1), d);
    expect(webOps(p).map((o) => [o.kind, o.object, o.reasons.join()])).toEqual([
      ['service.create', 'web/web#2', 'scale 1 → 3'],
      ['service.create', 'web/web#3', 'scale 1 → 3'],
    ]);
  });

  it('scale down removes the highest numbers first, one after the other', () => {
    const d3 = load({ replicas: 3 });
    const d1 = load({ replicas: 1 });
    const live = hostWith(d3, 3);
    const p = plan(d1, live, d3);
    expect(p.errors).toEqual([]);
    const ops = webOps(p) as ServiceRemoveOp[];
    expect(ops.map((o) => [o.kind, o.id, o.object, o.reasons.join(), o.after.join()])).toEqual([
      ['service.remove', 'container:web-web-3', 'web/web#3', 'scale 3 → 1', ''],
      ['service.remove', 'container:web-web-2', 'web/web#2', 'scale 3 → 1', 'container:web-web-3'],
    ]);
    // Replica 1 stays; back at one replica the service plans as a one-container service.
    expect(plan(d1, hostWith(d3, 1), d3).ops).toEqual([]);
  });

  it('a changed image is one rolling update over every replica, start-first one at a time by default', () => {
    const v1 = load({ replicas: 3 });
    const v2 = load({ replicas: 3, image: 'berth-test/web:v2' });
    const p = plan(v2, hostWith(v1, 3), v1);
    const [rolling, ...rest] = webOps(p);
    expect(rest).toEqual([]);
    const op = rolling as ServiceRollingOp;
    expect(op).toMatchObject({ kind: 'service.rolling', id: 'service:web/web', strategy: 'start-first', update: { parallelism: 1, order: null, failureAction: 'rollback' } });
    expect(op.steps.map((s) => [s.replica, s.containerName, s.old.name])).toEqual([
      [1, 'web-web-1', 'web-web-1'],
      [2, 'web-web-2', 'web-web-2'],
      [3, 'web-web-3', 'web-web-3'],
    ]);
    expect(op.reasons).toEqual(['image berth-test/web:v1 → berth-test/web:v2']);
    expect(p.summary).toMatchObject({ recreate: 1 });
  });

  it('scaling up during a change: new replicas are created after the rolling update, so a rollback leaves no new-revision replica', () => {
    const v1 = load({ replicas: 2 });
    const v2 = load({ replicas: 3, image: 'berth-test/web:v2' });
    const p = plan(v2, hostWith(v1, 2), v1);
    const ops = webOps(p);
    expect(ops.map((o) => [o.kind, o.object, o.after.join()])).toEqual([
      ['service.rolling', 'web/web', ''],
      ['service.create', 'web/web#3', 'service:web/web'],
    ]);
  });

  it('update_config order stop-first replaces with recreate; parallelism, delay, monitor and failure_action are carried', () => {
    const update = '      update_config:\n        parallelism: 2\n        delay: 2s\n        monitor: 500ms\n        order: stop-first\n        failure_action: pause\n        max_failure_ratio: 0.5\n';
    const v1 = load({ replicas: 3, update });
    const v2 = load({ replicas: 3, update, image: 'berth-test/web:v2' });
    const op = webOps(plan(v2, hostWith(v1, 3), v1))[0] as ServiceRollingOp;
    expect(op.strategy).toBe('recreate');
    expect(op.update).toEqual({ parallelism: 2, delayMs: 2000, monitorMs: 500, order: 'stop-first', failureAction: 'pause', maxFailureRatio: 0.5 });
  });

  it('a service that publishes host ports is replaced one replica at a time, stop-first', () => {
    const update = '      update_config:\n        parallelism: 3\n        order: start-first\n';
    const ports = "    ports: [\"127.0.0.1:8080:80\"]";
    const v1 = load({ replicas: 3, update, ports });
    const v2 = load({ replicas: 3, update, ports, image: 'berth-test/web:v2' });
    const op = webOps(plan(v2, hostWith(v1, 3), v1))[0] as ServiceRollingOp;
    expect(op.strategy).toBe('recreate');
    expect(op.update.parallelism).toBe(1);
    expect(op.reasons).toContain('publishes host ports: recreate instead of start-first');
  });

  it('changing only the replica count or update_config does not change the config hash', () => {
    const a = findService(load({ replicas: 1 }), 'web', 'web');
    const b = findService(load({ replicas: 5, update: '      update_config:\n        parallelism: 2\n' }), 'web', 'web');
    expect(b.configHash).toBe(a.configHash);
  });

  it('a stopped replica is started on its own, the others untouched', () => {
    const d = load({ replicas: 3 });
    const live = hostWith(d, 3);
    Object.assign(live.containers.find((c) => c.name === 'web-web-2')!, { state: 'exited', status: 'Exited (137) 1 minute ago' });
    expect(webOps(plan(d, live, d)).map((o) => [o.kind, o.id])).toEqual([['service.start', 'service:web/web#2']]);
  });
});

describe('replicas: digest pins', () => {
  // The tag reg.test/app:v1 was re-pushed: the host's tag now names image B; the v1 definition last ran image A.
  const A = `sha256:${'a'.repeat(64)}`;
  const B = `sha256:${'b'.repeat(64)}`;
  const idA = `sha256:${'1'.repeat(64)}`;
  const idB = `sha256:${'2'.repeat(64)}`;
  const idV2 = `sha256:${'3'.repeat(64)}`;
  const images = (withA: boolean) => [
    ...(withA ? [{ id: idA, repoTags: [], repoDigests: [`reg.test/app@${A}`] }] : []),
    { id: idB, repoTags: ['reg.test/app:v1'], repoDigests: [`reg.test/app@${B}`] },
    { id: idV2, repoTags: ['reg.test/app:v2'], repoDigests: [] },
  ];
  const v1 = load({ replicas: 3, image: 'reg.test/app:v1' });
  const v2 = load({ replicas: 3, image: 'reg.test/app:v2' });
  const pinned = (d: DesiredState) => {
    const spec = findService(d, 'web', 'web');
    return { ...NO_IMAGE_INPUTS, pins: { [spec.configHash]: { image: spec.image, imageId: idA, digest: A, revision: 'f00dcafe1', at: '2026-01-01T00:00:00Z' } } };
  };
  /** The host running v2 with `n` replicas, its local images as `images(withA)`. */
  const host = (n: number, withA: boolean): LiveState => ({ ...hostWith(v2, n), imageTags: ['berth-test/web:v1', 'reg.test/app:v1', 'reg.test/app:v2'], images: images(withA) });
  const revert = (d: DesiredState, live: LiveState) => buildPlan(d, live, withInventory(appliedFor(v2), live), 'rev', pinned(d));

  it('a revert runs the pinned image on every replica of the rolling update, from the local store', () => {
    const p = revert(v1, host(3, true));
    expect(p.errors).toEqual([]);
    const [op, ...rest] = webOps(p) as ServiceRollingOp[];
    expect(rest).toEqual([]);
    expect(op!.kind).toBe('service.rolling');
    expect(op!.steps.map((s) => s.containerName)).toEqual(['web-web-1', 'web-web-2', 'web-web-3']);
    expect(op!.image).toEqual({ pullRef: null, run: idA, digest: A, pinnedAt: 'f00dcafe1' });
    expect(op!.reasons.join('; ')).toContain('pinned to sha256:aaaaaaaaaaaa… as run at f00dcaf; the tag now names sha256:bbbbbbbbbbbb…');
  });

  it('a pinned image gone from the host is pulled by digest, once, for the rolling update and the replicas it adds', () => {
    const p = revert(load({ replicas: 3, image: 'reg.test/app:v1' }), host(2, false));
    const ops = webOps(p) as (ServiceRollingOp | ServiceCreateOp)[];
    expect(ops.map((o) => [o.kind, o.object])).toEqual([
      ['service.rolling', 'web/web'],
      ['service.create', 'web/web#3'],
    ]);
    for (const o of ops) expect(o.image).toMatchObject({ pullRef: `reg.test/app@${A}`, run: idA, digest: A });
    expect(ops.every((o) => o.pull)).toBe(true);
  });
});
