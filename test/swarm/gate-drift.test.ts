import { describe, expect, it } from 'vitest';
import type { LiveSwarmService, LiveSwarmTask } from '../../src/ports/swarm.js';
import { swarmDrift } from '../../src/swarm/drift.js';
import { engineServiceSpec } from '../../src/swarm/engine-spec.js';
import { gate } from '../../src/swarm/gate.js';
import { desiredShape, shapeHash } from '../../src/swarm/shape.js';
import { swarmDesired } from './fixtures.js';

const web = (image: string, replicas = 2) => {
  const svc = swarmDesired({ shop: `services:\n  web:\n    image: ${image}\n    deploy: {replicas: ${replicas}}\n` }).stacks[0]!.services[0]!;
  const { shape } = desiredShape(svc);
  const configHash = shapeHash(shape);
  const spec = engineServiceSpec(shape, { stack: 'shop', service: 'web', name: 'shop_web', tier: 'app', configHash, revision: null }, new Map());
  return { shape, configHash, spec };
};

function service(spec: Record<string, unknown>, updateStatus: LiveSwarmService['updateStatus'] = null, previousSpec: unknown = null): LiveSwarmService {
  return { id: 'svc1', name: 'shop_web', version: 3, labels: spec.Labels as Record<string, string>, spec, previousSpec, updateStatus };
}

let n = 0;
/** A task as Swarm makes it: a copy of the template, minus defaults the service spec spells out. */
function task(spec: Record<string, unknown>, state: string, desiredState = 'running', error = ''): LiveSwarmTask {
  const template = structuredClone((spec as { TaskTemplate: Record<string, unknown> }).TaskTemplate);
  delete template.Resources;
  return { id: `task${++n}`, serviceId: 'svc1', slot: n, nodeId: 'node', desiredState, state, error, spec: template, image: '', addresses: [] };
}

describe('the swarm rollout gate', () => {
  const v1 = web('acme/web:1');
  const v2 = web('acme/web:2');

  it('waits until every wanted task runs the new spec and the old ones are gone', () => {
    const svc = service(v2.spec, { state: 'updating', message: '' });
    expect(gate(v2.configHash, svc, [task(v1.spec, 'running'), task(v2.spec, 'running')])).toEqual({ state: 'waiting', why: '1/2 tasks of the new spec running, 1 old still running' });
    expect(gate(v2.configHash, svc, [task(v2.spec, 'starting'), task(v2.spec, 'running'), task(v1.spec, 'shutdown', 'shutdown')])).toMatchObject({ state: 'waiting' });
    expect(gate(v2.configHash, svc, [task(v2.spec, 'running'), task(v2.spec, 'running'), task(v1.spec, 'shutdown', 'shutdown')])).toEqual({ state: 'converged' });
  });

  it('a hand-edited spec under berth\'s label is not "the new spec"; a service not yet carrying it waits', () => {
    expect(gate(v2.configHash, service(v1.spec), [task(v1.spec, 'running'), task(v1.spec, 'running')])).toMatchObject({ state: 'waiting', why: 'the service does not carry the expected spec yet' });
    const relabelled = { ...v1.spec, Labels: v2.spec.Labels };
    expect(gate(v2.configHash, service(v2.spec), [task(relabelled, 'running'), task(relabelled, 'running')])).toMatchObject({ state: 'waiting' });
  });

  it('fails on a failed task of the new spec or when Swarm paused or rolled back the update', () => {
    expect(gate(v2.configHash, service(v2.spec), [task(v2.spec, 'failed', 'shutdown', 'task: non-zero exit (1)')])).toEqual({ state: 'failed', why: expect.stringMatching(/failed: task: non-zero exit \(1\)$/) });
    expect(gate(v2.configHash, service(v2.spec, { state: 'paused', message: 'update paused due to failure' }), [])).toEqual({ state: 'failed', why: 'Swarm paused the update (update paused due to failure)' });
    expect(gate(v2.configHash, service(v2.spec, { state: 'rollback_started', message: '' }), [])).toEqual({ state: 'failed', why: 'Swarm rolled the update back' });
    // While berth waits for a rollback to land, those states are expected.
    expect(gate(v1.configHash, service(v1.spec, { state: 'rollback_completed', message: '' }), [task(v1.spec, 'running'), task(v1.spec, 'running')], { rollingBack: true })).toEqual({ state: 'converged' });
  });
});

describe('swarm drift', () => {
  const v1 = web('acme/web:1', 3);
  const record = { revision: 'abc', services: [{ stack: 'shop', service: 'web', name: 'shop_web', configHash: v1.configHash }] };

  it('none when the service runs what berth applied with all its tasks', () => {
    expect(swarmDrift(record, [service(v1.spec)], new Map(), new Map([['svc1', 3]]))).toEqual([]);
  });

  it('a hand edit, named from the spec Swarm kept before it; a missing service; tasks short', () => {
    const edited = structuredClone(v1.spec) as Record<string, any>;
    edited.TaskTemplate.ContainerSpec.Image = 'acme/web:debug';
    edited.Mode.Replicated.Replicas = 1;
    expect(swarmDrift(record, [service(edited, null, v1.spec)], new Map(), new Map([['svc1', 1]]))).toEqual([
      { stack: 'shop', object: 'shop/web', aspect: 'spec', expected: 'the spec berth applied', found: 'changed by hand: image acme/web:1 → acme/web:debug; replicas 3 → replicas 1' },
    ]);
    expect(swarmDrift(record, [], new Map(), new Map())).toEqual([{ stack: 'shop', object: 'shop/web', aspect: 'missing', expected: 'service shop_web', found: 'none' }]);
    expect(swarmDrift(record, [service(v1.spec)], new Map(), new Map([['svc1', 2]]))).toEqual([{ stack: 'shop', object: 'shop/web', aspect: 'tasks', expected: '3 running', found: '2 running' }]);
  });
});
