import { describe, expect, it } from 'vitest';
import { detectDrift } from '../../src/drift/detect.js';
import { driftAppeared } from '../../src/notify/messages.js';
import { replicaSummary, serviceReplicas } from '../../src/drift/replica-status.js';
import { LABEL } from '../../src/labels.js';
import type { AppliedRecord } from '../../src/model/applied.js';
import { containerNumber, replicaName, replicaNumberOf, replicaSpec } from '../../src/model/replicas.js';
import { liveContainer, redact } from '../support/plan-fixtures.js';
import { serviceSpec } from '../support/service-spec.js';

const spec = serviceSpec({ replicas: 3, configHash: 'v1:abc' });
const container = (name: string, state: 'running' | 'exited' = 'running') =>
  liveContainer({ name, state, status: state === 'running' ? 'Up 1 minute' : 'Exited (137) 1 minute ago', labels: { [LABEL.managed]: 'true', [LABEL.configHash]: 'v1:abc' }, networks: ['shop_default'] });

describe('replica names', () => {
  it('follows docker compose: <stack>-<service>-N, replica 1 under containerName', () => {
    expect([1, 2, 3].map((k) => replicaName(spec, k))).toEqual(['shop-web-1', 'shop-web-2', 'shop-web-3']);
    expect(replicaNumberOf(spec, 'shop-web-12')).toBe(12);
    expect(replicaNumberOf(spec, 'shop-web-2_berth_tmp')).toBeNull();
    expect(replicaNumberOf(spec, 'shop-webx-2')).toBeNull();
    expect(containerNumber(replicaSpec(spec, 3))).toBe(3);
    expect(containerNumber(serviceSpec({ containerName: 'fixed-name' }))).toBe(1);
  });
});

describe('replica status', () => {
  it('counts running replicas: "web 2/3 running"', () => {
    const byName = new Map([container('shop-web-1'), container('shop-web-2', 'exited')].map((c) => [c.name, c]));
    const r = serviceReplicas(spec, byName);
    expect(r).toMatchObject({ desired: 3, running: 1 });
    expect(r.replicas.map((x) => x.state)).toEqual(['running', 'exited', 'missing']);
    expect(replicaSummary('web', r)).toBe('web 1/3 running');
  });

  it('drift names each replica and says how many run', () => {
    const applied: AppliedRecord = { revision: 'r', appliedAt: '2025-01-01T00:00:00.000Z', source: 't', salt: 's', stacks: [{ name: 'shop', networks: [], volumes: [], services: [redact(spec)] }] };
    const items = detectDrift(applied, { containers: [container('shop-web-1'), container('shop-web-3', 'exited')], networks: [], volumes: [], imageTags: [] });
    expect(items.map((i) => [i.object, i.aspect, i.found])).toEqual([
      ['shop-web-2', 'missing', 'no such container (web 1/3 running)'],
      ['shop-web-3', 'stopped', 'exited (Exited (137) 1 minute ago) (web 1/3 running)'],
    ]);
    // Chat says the same.
    const msg = driftAppeared(items.map((item) => ({ item, since: '2025-01-01T00:00:00.000Z' })), { host: 'h', repo: '', at: new Date(0) }, 'r');
    expect(msg.lines[0]).toBe('shop/shop-web-2: container missing — expected container shop-web-2 running, found no such container (web 1/3 running)');
  });
});

describe('replicaSpec', () => {
  it('keeps a secret-safe spec secret-safe', () => {
    const safe = { ...serviceSpec({ environment: { TOKEN: 'fixture-secret-replica-1' } }) };
    Object.defineProperty(safe, 'toJSON', { value: () => ({ environment: { TOKEN: '(hidden)' } }), enumerable: false });
    const r = replicaSpec(safe, 2);
    expect(r.containerName).toBe('shop-web-2');
    expect(JSON.stringify(r)).not.toContain('fixture-secret-replica-1');
    expect(r.environment.TOKEN).toBe('fixture-secret-replica-1');
  });
});
