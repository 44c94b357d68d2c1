import { describe, expect, it } from 'vitest';
import { containerCreateBody } from '../../src/adapters/container-body.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { LiveState } from '../../src/model/live.js';
import { replicaCount, replicaSpec } from '../../src/model/replicas.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { appliedFor, containerFor, findService, liveFor, withInventory } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

/** Followers (src/plan/followers.ts) of a scaled service, or of one replaced by a rolling update. */
const validators = createValidators();
function load(compose: string): DesiredState {
  const r = loadDesiredState(tmpRepo({ 'stacks/s/compose.yaml': compose }), { env: {}, validators });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.state!;
}

/** liveFor, with every replica of a scaled service running. */
function liveWithReplicas(desired: DesiredState): LiveState {
  const live = liveFor(desired);
  for (const stack of desired.stacks) {
    for (const svc of stack.services) for (let k = 2; k <= replicaCount(svc); k++) live.containers.push(containerFor(replicaSpec(svc, k)));
  }
  return live;
}

const plan = (before: DesiredState, after: DesiredState) => {
  const live = liveWithReplicas(before);
  return buildPlan(after, live, withInventory(appliedFor(before), live), null);
};

describe('depends_on restart: true with replicas', () => {
  const compose = (tag: string, dbReplicas: number, webReplicas: number) =>
    `services:\n  db:\n    image: postgres:${tag}\n    deploy: {replicas: ${dbReplicas}}\n  web:\n    image: app:v1\n    deploy: {replicas: ${webReplicas}}\n    depends_on:\n      db:\n        condition: service_started\n        restart: true\n`;

  it('restarts the dependent after a rolling update of its scaled dependency', () => {
    const ops = plan(load(compose('16', 3, 1)), load(compose('17', 3, 1))).ops;
    const db = ops.find((o) => o.id === 'service:s/db');
    expect(db?.kind).toBe('service.rolling');
    const web = ops.find((o) => o.id === 'service:s/web');
    expect(web?.kind === 'service.start' && web.restart).toBe(true);
    expect(web?.after).toEqual(['service:s/db']);
    expect(ops.indexOf(db!)).toBeLessThan(ops.indexOf(web!));
  });

  it('restarts every replica of a scaled dependent, each after the dependency', () => {
    const ops = plan(load(compose('16', 1, 2)), load(compose('17', 1, 2))).ops;
    const followers = ops.filter((o) => o.id.startsWith('service:s/web'));
    expect(followers.map((o) => [o.id, o.kind, o.kind === 'service.start' && o.restart])).toEqual([
      ['service:s/web#1', 'service.start', true],
      ['service:s/web#2', 'service.start', true],
    ]);
    expect(followers.map((o) => o.kind === 'service.start' && o.service.containerName)).toEqual(['s-web-1', 's-web-2']);
    for (const f of followers) expect(f.after).toEqual(['service:s/db']);
  });
});

describe('service:X when X is scaled', () => {
  const compose = (tag: string) =>
    `services:\n  db:\n    image: alpine:${tag}\n    scale: 2\n  side:\n    image: alpine\n    network_mode: service:db\n    volumes_from: [db]\n    links: [db]\n`;

  it('joins replica 1 of X', () => {
    const d = load(compose('3.19'));
    const side = findService(d, 's', 'side');
    const body = containerCreateBody(side, side.containerName, {}, '1.41');
    expect(body.HostConfig.NetworkMode).toBe('container:s-db-1');
    expect(body.HostConfig.VolumesFrom).toEqual(['s-db-1']);
  });

  it('is recreated after a rolling update of X, with the image decided as the controller does', () => {
    const ops = plan(load(compose('3.19')), load(compose('3.20'))).ops;
    expect(ops.find((o) => o.id === 'service:s/db')?.kind).toBe('service.rolling');
    const side = ops.find((o) => o.id === 'service:s/side');
    expect(side?.kind).toBe('service.recreate');
    expect(side?.after).toEqual(['service:s/db']);
    expect(side?.kind === 'service.recreate' && side.image).toEqual({ pullRef: null, run: 'alpine', digest: null, pinnedAt: null });
  });
});
