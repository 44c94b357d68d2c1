import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/apply/apply.js';
import { LABEL } from '../../src/labels.js';
import { DEFAULT_SETTINGS, DEFAULT_UPDATE_CONFIG, type DesiredState } from '../../src/model/desired.js';
import type { ImagePlan, Plan, ServiceCreateOp, ServiceRollingOp } from '../../src/model/plan.js';
import { replicaSpec } from '../../src/model/replicas.js';
import { fakeEngine } from '../support/fake-docker.js';
import { serviceSpec } from '../support/service-spec.js';

/**
 * A scaled service is digest-pinned like a single container: a rolling update
 * and the replicas created beside it pull the pinned digest once, create every
 * replica from the pinned image ID, and label each with `io.berth.image-digest`.
 */
const A = `sha256:${'a'.repeat(64)}`;
const idA = `sha256:${'1'.repeat(64)}`;

describe('apply: replicas run the pinned digest', () => {
  it('every replica of a rolling update and of a scale-up runs the pinned image, labelled with its digest', async () => {
    const engine = fakeEngine();
    const pulled: string[] = [];
    const docker = { ...engine.docker, pullImage: async (ref: string) => void pulled.push(ref) };
    const spec = serviceSpec({ image: 'reg.test/app:v1', replicas: 3 });
    const olds = [1, 2].map((k) => engine.add(`shop-web-${k}`, 'reg.test/app:v1'));
    const image: ImagePlan = { pullRef: `reg.test/app@${A}`, run: idA, digest: A, pinnedAt: 'f00dcafe1' };
    const reasons = ['image reg.test/app:v1 (pinned to sha256:aaaaaaaaaaaa… as run at f00dcaf; the tag now names sha256:bbbbbbbbbbbb…)'];
    const rolling: ServiceRollingOp = {
      kind: 'service.rolling',
      id: 'service:shop/web',
      wave: 'apps',
      action: 'recreate',
      stack: 'shop',
      object: 'shop/web',
      reasons,
      after: [],
      service: spec,
      pull: true,
      image,
      strategy: 'recreate',
      update: { ...DEFAULT_UPDATE_CONFIG, parallelism: 0 },
      steps: olds.map((c, i) => ({ replica: i + 1, containerName: c.name, old: { id: c.id, name: c.name }, reasons })),
    };
    const create: ServiceCreateOp = {
      kind: 'service.create',
      id: 'service:shop/web#3',
      wave: 'apps',
      action: 'create',
      stack: 'shop',
      object: 'shop/web#3',
      reasons: ['scale 2 → 3'],
      after: [rolling.id],
      service: replicaSpec(spec, 3),
      pull: true,
      image,
    };
    const plan = { ops: [rolling, create], errors: [], warnings: [] } as unknown as Plan;
    const desired = { stacks: [{ name: 'shop', services: [spec] }], settings: DEFAULT_SETTINGS } as unknown as DesiredState;
    const result = await applyPlan(plan, { docker, clock: engine.clock, desired, settings: { ...DEFAULT_SETTINGS, rollout: { ...DEFAULT_SETTINGS.rollout, drainSeconds: 0 } }, revision: 'rev2' });
    expect(result.results.map((r) => [r.object, r.status, r.error ?? ''])).toEqual([
      ['shop/web', 'ok', ''],
      ['shop/web#3', 'ok', ''],
    ]);
    expect(pulled).toEqual([`reg.test/app@${A}`]);
    const replicas = [...engine.containers.values()].sort((a, b) => a.name.localeCompare(b.name));
    expect(replicas.map((c) => [c.name, c.image, c.labels[LABEL.imageDigest]])).toEqual([
      ['shop-web-1', idA, A],
      ['shop-web-2', idA, A],
      ['shop-web-3', idA, A],
    ]);
  });
});
