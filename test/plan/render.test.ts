import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LABEL } from '../../src/labels.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { Plan } from '../../src/model/plan.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { renderPlanJson, renderPlanText } from '../../src/plan/render.js';
import {
  appliedFor,
  containerFor,
  emptyLive,
  findService,
  liveContainer,
  liveFor,
  liveNetwork,
  loadOk,
  managedLabels,
  withInventory,
} from '../support/plan-fixtures.js';
import { expectGolden } from '../support/golden.js';

// Golden files hold the exact bytes of `berth plan`. After an intended change:
//   UPDATE_GOLDEN=1 npx vitest run test/plan/render.test.ts
// then read the diff of test/plan/golden/ before committing it.
const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');

const golden = (name: string, text: string): void => expectGolden(GOLDEN, name, text);

const EXAMPLE = 'desired-state';
const example = (env: Record<string, string> = {}): DesiredState => loadOk(EXAMPLE, env);

/** A host that drifted and a repo that moved on: one plan that uses every section and op kind. */
function mixedPlan(): Plan {
  const before = example();
  const after = example({ WEB_GREETING: 'new greeting, never printed' });
  // api moves to a new image in git
  const api = after.stacks.find((s) => s.name === 'api')!.services.find((s) => s.name === 'api')!;
  api.image = 'berth-test/web:v3';
  api.configHash = 'v1:7777777777777777777777777777777777777777777777777777777777777777';
  const live = liveFor(before);
  const c = (name: string) => live.containers.find((x) => x.name === name)!;
  Object.assign(c('api-worker-1'), { state: 'exited', status: 'Exited (1) 2 minutes ago' });
  Object.assign(c('infra-status-1'), { networks: ['edge', 'observability'] });
  live.containers = live.containers.filter((x) => x.name !== 'data-redis-1');
  live.containers.push(
    containerFor(findService(before, 'data', 'redis'), { name: 'data-redis-1_berth_old', state: 'exited', status: 'Exited (0) 5 minutes ago' }),
    containerFor(findService(before, 'web', 'web'), { name: 'web-web-1_berth_tmp', state: 'created', status: 'Created' }),
    liveContainer({ name: 'shop-api-1', image: 'acme/shop:3', labels: managedLabels('shop', { [LABEL.service]: 'api' }), networks: ['shop_default'] }),
    liveContainer({ name: 'shop-db-1', image: 'postgres:16', labels: managedLabels('shop', { [LABEL.service]: 'db' }), networks: ['shop_default'] }),
  );
  live.networks = live.networks.map((n) => (n.name === 'observability' ? { ...n, enableIpv6: true } : n));
  live.networks.push(liveNetwork({ name: 'shop_default', labels: managedLabels('shop') }));
  live.imageTags = live.imageTags.filter((t) => t !== 'berth-test/web:v3');
  return buildPlan(after, (live), withInventory(appliedFor(before), live), '0123abcd');
}

describe('renderPlanText', () => {
  it('golden: from scratch (example repo, empty host)', () => {
    golden('from-scratch.txt', renderPlanText(buildPlan(example(), (emptyLive()), withInventory(null, emptyLive()), null)));
  });

  it('golden: one environment value changed', () => {
    const before = example();
    const text = renderPlanText(buildPlan(example({ WEB_GREETING: 'bonjour' }), (liveFor(before)), withInventory(appliedFor(before), liveFor(before)), null));
    golden('one-env-change.txt', text);
    expect(text).not.toContain('bonjour');
    expect(text).not.toContain('hello from berth');
  });

  it('golden: every section and op kind', () => {
    const text = renderPlanText(mixedPlan());
    golden('mixed.txt', text);
    expect(text).not.toContain('never printed');
  });

  it('golden: errors', () => {
    const desired = example();
    const live = emptyLive();
    live.containers.push(liveContainer({ name: 'web-web-1', id: 'c0ffee00c0ffee00', image: 'nginx:1.27' }));
    live.networks.push(liveNetwork({ name: 'edge', labels: { owner: 'ops' } }));
    golden('errors.txt', renderPlanText(buildPlan(desired, (live), withInventory(null, live), null)));
  });

  it('says so when the host is in sync', () => {
    const desired = example();
    expect(renderPlanText(buildPlan(desired, (liveFor(desired)), withInventory(appliedFor(desired), liveFor(desired)), null))).toBe('No changes. The host matches the desired state.\n');
  });

  it('is byte-for-byte stable', () => {
    expect(renderPlanText(mixedPlan())).toBe(renderPlanText(mixedPlan()));
  });

  it('aligns objects and reasons in one column each', () => {
    const lines = renderPlanText(mixedPlan())
      .split('\n')
      .filter((l) => /^ {2}[-+~] /.test(l));
    expect(lines.length).toBeGreaterThan(5);
    const actionCol = new Set(lines.map((l) => /^ {2}. \S+ +/.exec(l)![0].length));
    expect(actionCol.size).toBe(1);
    const reasonCol = new Set(lines.map((l) => /^ {2}. \S+ +\S+(?: \([^)]*\))?: +/.exec(l)![0].length));
    expect(reasonCol.size).toBe(1);
  });

  it('prints errors as "Error: <stack>/<object>: <message>"', () => {
    const desired = example();
    const live = emptyLive();
    live.containers.push(liveContainer({ name: 'web-web-1', id: 'c0ffee00c0ffee00', image: 'nginx:1.27' }));
    const text = renderPlanText(buildPlan(desired, (live), withInventory(null, live), null));
    expect(text).toContain(
      'Error: web/web: container web-web-1 (id c0ffee00c0ff, image nginx:1.27) exists but is not managed by berth; remove or rename it, or give the service another container_name\n',
    );
  });
});

describe('renderPlanJson', () => {
  it('lists what and why per op, never a spec', () => {
    const plan = mixedPlan();
    const json = renderPlanJson(plan);
    expect(Object.keys(json)).toEqual(['revision', 'summary', 'errors', 'warnings', 'ops']);
    expect(json.revision).toBe('0123abcd');
    expect(json.summary).toEqual(plan.summary);
    const allowed = ['id', 'kind', 'wave', 'action', 'stack', 'object', 'reasons', 'after', 'strategy', 'pull', 'image'];
    for (const op of json.ops) for (const k of Object.keys(op)) expect(allowed).toContain(k);
    const byId = Object.fromEntries(json.ops.map((o) => [o.id, o]));
    expect(byId['service:web/web']).toEqual({
      id: 'service:web/web',
      kind: 'service.recreate',
      wave: 'apps',
      action: 'recreate',
      stack: 'web',
      object: 'web/web',
      reasons: ['env GREETING changed (value hidden)'],
      after: [],
      strategy: 'start-first',
      pull: false,
      image: 'berth-test/web:v1',
    });
    expect(byId['service:api/worker']).toMatchObject({ kind: 'service.start', after: ['service:api/api'], image: 'berth-test/worker:1' });
    expect(byId['service:api/worker']).not.toHaveProperty('pull');
    expect(byId['network:observability']).toEqual({
      id: 'network:observability',
      kind: 'network.recreate',
      wave: 'networks',
      action: 'recreate',
      stack: 'infra',
      object: 'observability',
      reasons: ['enable_ipv6 true → false'],
      after: [],
    });
    const text = JSON.stringify(json);
    expect(text).not.toContain('never printed');
    expect(text).not.toContain('environment');
    expect(text).not.toContain('example-not-a-secret');
  });
});
