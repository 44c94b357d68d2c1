import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { lint } from '../../src/lint/lint.js';
import type { LiveSwarmNetwork, LiveSwarmService } from '../../src/ports/swarm.js';
import { engineServiceSpec, liveShape } from '../../src/swarm/engine-spec.js';
import { planSwarm, type SwarmOp } from '../../src/swarm/plan.js';
import { renderSwarmPlan } from '../../src/swarm/render.js';
import { desiredShape, shapeHash } from '../../src/swarm/shape.js';
import { FsWorkingTreeHasher } from '../../src/adapters/working-tree-hasher.js';
import { identifiedDesired } from '../../src/files/identify.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { loadSwarm, swarmDesired } from './fixtures.js';

const SHOP = `services:
  db:
    image: postgres:18.1
    volumes: [data:/var/lib/postgresql/data]
    deploy:
      placement: {constraints: [node.hostname == db-1]}
  web:
    image: acme/web:1
    depends_on: [db]
    environment: {API_KEY: s3cret-value}
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      resources: {limits: {cpus: "0.5", memory: 64m}}
      restart_policy: {condition: on-failure, delay: 2s, max_attempts: 3}
      update_config: {order: start-first, failure_action: rollback, monitor: 5s, parallelism: 1}
      rollback_config: {parallelism: 0, order: stop-first}
      labels: {team: shop}
volumes:
  data: {}
`;

/** A live service as the manager would return it for what berth wrote. */
function liveFrom(op: Extract<SwarmOp, { kind: 'service.create' }>, netIds: Map<string, string>, id = `id-${op.service.name}`): LiveSwarmService {
  const s = op.service;
  const spec = engineServiceSpec(s.shape, { stack: s.stack, service: s.service, name: s.name, tier: s.tier, configHash: s.configHash, revision: 'r1' }, netIds);
  return { id, name: s.name, version: 7, labels: spec.Labels as Record<string, string>, spec, previousSpec: null, updateStatus: null };
}

function converged(stacks: Record<string, string>) {
  const desired = swarmDesired(stacks);
  const first = planSwarm(desired, { services: [], networks: [] });
  const networks: LiveSwarmNetwork[] = first.ops.flatMap((o) =>
    o.kind === 'network.create' ? [{ id: `net-${o.name}`, name: o.name, driver: 'overlay', attachable: true, internal: false, labels: o.body.Labels as Record<string, string> }] : [],
  );
  const netIds = new Map(networks.map((n) => [n.name, n.id]));
  const services = first.ops.flatMap((o) => (o.kind === 'service.create' ? [liveFrom(o, netIds)] : []));
  return { desired, first, live: { services, networks } };
}

describe('swarm deploy keys in a Compose file', () => {
  it('are read for a stack on a swarm host and refused, located, on an engine host', () => {
    const d = swarmDesired({ shop: SHOP });
    const web = d.stacks[0]!.services.find((s) => s.name === 'web')!;
    expect(web.swarm).toEqual({
      mode: 'replicated',
      placement: { constraints: [], preferences: [], maxReplicas: null },
      endpointMode: 'dnsrr',
      restartPolicy: { condition: 'on-failure', delayNs: 2e9, maxAttempts: 3, windowNs: null },
      rollbackConfig: { parallelism: 0, delayMs: 0, failureAction: 'rollback', monitorMs: 0, maxFailureRatio: 0, order: 'stop-first' },
      labels: { team: 'shop' },
    });
    // No "applies to swarm only" warnings on a swarm host.
    expect(loadSwarm({ shop: SHOP }).diagnostics.filter((x) => x.code === 'ignored-key')).toEqual([]);

    const engine = loadDesiredState(tmpRepo({ 'stacks/shop/compose.yaml': SHOP }), { env: {}, validators: createValidators() });
    const refused = engine.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.line}:${x.col} ${x.code}`);
    expect(refused).toEqual(['6:7 unsupported-key', '13:7 unsupported-key', '17:7 unsupported-key']);
    expect(engine.diagnostics.find((x) => x.line === 6)!.message).toContain('put the stack on a `mode: swarm` host');
  });

  it('bad values are located errors', () => {
    const r = loadSwarm({ s: 'services:\n  a:\n    image: x:1\n    deploy: {mode: global, replicas: 2, endpoint_mode: ipvs}\n' });
    expect(r.state).toBeNull();
    expect(r.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.line}:${x.col} ${x.message}`)).toEqual([
      expect.stringMatching(/^4:\d+ (`mode: global`|endpoint_mode)/),
      expect.stringMatching(/^4:\d+ (`mode: global`|endpoint_mode)/),
    ]);
  });
});

describe('swarm service shape', () => {
  it('maps deploy keys onto the ServiceSpec, stack-named and labelled, and reads back to the same shape', () => {
    const { first, live } = converged({ shop: SHOP });
    const webOp = first.ops.find((o) => o.object === 'shop/web') as Extract<SwarmOp, { kind: 'service.create' }>;
    const spec = live.services.find((s) => s.name === 'shop_web')!.spec as Record<string, any>;
    expect(spec.Name).toBe('shop_web');
    expect(spec.Labels).toMatchObject({ 'com.docker.stack.namespace': 'shop', 'io.berth.managed': 'true', 'io.berth.stack': 'shop', 'io.berth.service': 'web', team: 'shop', 'io.berth.config-hash': webOp.service.configHash });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(spec.EndpointSpec.Mode).toBe('dnsrr');
    expect(spec.UpdateConfig).toEqual({ Parallelism: 1, Delay: 0, FailureAction: 'rollback', Monitor: 5e9, MaxFailureRatio: 0, Order: 'start-first' });
    expect(spec.RollbackConfig.Order).toBe('stop-first');
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure', Delay: 2e9, MaxAttempts: 3, Window: 0 });
    expect(spec.TaskTemplate.Resources.Limits).toEqual({ NanoCPUs: 5e8, MemoryBytes: 64 * 1024 * 1024, Pids: 0 });
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'net-shop_default', Aliases: ['web'] }]);
    expect(spec.TaskTemplate.ContainerSpec.Labels['com.docker.stack.namespace']).toBe('shop');
    const db = live.services.find((s) => s.name === 'shop_db')!.spec as Record<string, any>;
    expect(db.TaskTemplate.Placement.Constraints).toEqual(['node.hostname == db-1']);
    expect(db.TaskTemplate.ContainerSpec.Mounts).toEqual([{ Type: 'volume', Source: 'shop_data', Target: '/var/lib/postgresql/data', ReadOnly: false, VolumeOptions: { Labels: { 'com.docker.stack.namespace': 'shop', 'io.berth.managed': 'true', 'io.berth.stack': 'shop' } } }]);
    expect(db.Labels['io.berth.tier']).toBe('database');
    const back = liveShape(spec, new Map([['net-shop_default', 'shop_default']]));
    expect(back).toEqual(webOp.service.shape);
    expect(shapeHash(back)).toBe(webOp.service.configHash);
  });

  it('names the keys a swarm task cannot have', () => {
    const d = swarmDesired({ s: 'services:\n  a:\n    image: x:1\n    privileged: true\n    network_mode: host\n    security_opt: [no-new-privileges:true]\n' });
    expect(desiredShape(d.stacks[0]!.services[0]!).unsupported).toEqual(['network_mode', 'privileged', 'security_opt']);
    const plan = planSwarm(d, { services: [], networks: [] });
    expect(plan.errors).toEqual([{ object: 's/a', message: 'not supported on a swarm host: network_mode, privileged, security_opt' }]);
  });
});

describe('planSwarm', () => {
  it('creates networks, then databases, then apps; a second look is in sync', () => {
    const { desired, first, live } = converged({ shop: SHOP });
    expect(first.ops.map((o) => `${o.wave} ${o.kind} ${o.object}`)).toEqual(['networks network.create shop_default', 'databases service.create shop/db', 'apps service.create shop/web']);
    expect(first.ops[0]!.kind === 'network.create' && first.ops[0]!.body).toMatchObject({ Name: 'shop_default', Driver: 'overlay', Attachable: true, Labels: { 'com.docker.stack.namespace': 'shop', 'io.berth.managed': 'true' } });
    const web = first.ops[2]!;
    expect(web.kind === 'service.create' && web.service.dependsOn).toEqual(['shop_db']);
    expect(planSwarm(desired, live).ops).toEqual([]);
  });

  it('a change in git is an update with its reasons; env values are never shown', () => {
    const { live } = converged({ shop: SHOP });
    const next = swarmDesired({ shop: SHOP.replace('acme/web:1', 'acme/web:2').replace('replicas: 3', 'replicas: 5').replace('s3cret-value', 'other-secret') });
    const plan = planSwarm(next, live);
    expect(plan.ops.map((o) => [o.kind, o.object, o.reasons])).toEqual([['service.update', 'shop/web', ['image acme/web:1 → acme/web:2', 'replicas 3 → replicas 5', 'env API_KEY changed (value hidden)']]]);
    const op = plan.ops[0]!;
    expect(op.kind === 'service.update' && [op.drift, op.held, op.liveId]).toEqual([false, false, 'id-shop_web']);
    expect(renderSwarmPlan(plan)).not.toMatch(/other-secret|s3cret-value/);
  });

  it('a hand edit (scale, image) is drift: healed by default, reported only with selfHeal off', () => {
    const { desired, live } = converged({ shop: SHOP });
    const web = live.services.find((s) => s.name === 'shop_web')!;
    const spec = structuredClone(web.spec) as Record<string, any>;
    spec.Mode.Replicated.Replicas = 1;
    spec.TaskTemplate.ContainerSpec.Image = 'acme/web:hacked';
    const edited = { ...live, services: live.services.map((s) => (s === web ? { ...s, spec, previousSpec: web.spec } : s)) };
    const heal = planSwarm(desired, edited).ops;
    expect(heal.map((o) => o.reasons)).toEqual([['changed by hand: image acme/web:hacked → acme/web:1', 'changed by hand: replicas 1 → replicas 3']]);
    expect(heal[0]!.kind === 'service.update' && [heal[0]!.drift, heal[0]!.held]).toEqual([true, false]);

    const reportOnly = swarmDesired({ shop: SHOP }, 'policy: {selfHeal: false}\n');
    const held = planSwarm(reportOnly, edited);
    expect(held.ops[0]!.kind === 'service.update' && held.ops[0]!.held).toBe(true);
    expect(renderSwarmPlan(held)).toContain('No changes applied: 1 drifted service is reported only (selfHeal off).');
  });

  it('prunes managed services and networks that left git, apps before databases before networks; refuses unmanaged names', () => {
    const { live } = converged({ shop: SHOP });
    const only = swarmDesired({ other: 'services:\n  a:\n    image: x:1\n' });
    const plan = planSwarm(only, live);
    expect(plan.ops.map((o) => `${o.kind} ${o.object}`)).toEqual(['network.create other_default', 'service.create other/a', 'service.remove shop/web', 'service.remove shop/db', 'network.remove shop_default']);
    const noPrune = planSwarm(swarmDesired({ other: 'services:\n  a:\n    image: x:1\n' }, 'policy: {prune: false}\n'), live);
    expect(noPrune.ops.map((o) => o.kind)).toEqual(['network.create', 'service.create']);

    const foreign = { services: [{ ...live.services[0]!, labels: {} }], networks: [{ ...live.networks[0]!, labels: {} }] };
    expect(planSwarm(swarmDesired({ shop: SHOP }), foreign).errors.map((e) => e.object)).toEqual(['shop_default', 'shop/db']);
  });
});

describe('lint on swarm', () => {
  it('a database-tier service without a placement constraint is a located error', () => {
    const r = loadSwarm({ data: 'services:\n  pg:\n    image: postgres:18.1\n    deploy:\n      replicas: 1\n' });
    const f = lint(r.state!, { positions: r.sources }).filter((x) => x.rule === 'swarm-database-unpinned');
    expect(f).toMatchObject([{ severity: 'error', object: 'data/pg', file: 'stacks/data/compose.yaml', line: 4, col: 5 }]);
    const pinned = loadSwarm({ data: 'services:\n  pg:\n    image: postgres:18.1\n    deploy:\n      placement: {constraints: [node.labels.db == true]}\n' });
    expect(lint(pinned.state!).filter((x) => x.rule === 'swarm-database-unpinned')).toEqual([]);
  });
});

describe('swarm configs and secrets', () => {
  const compose = 'services:\n  app:\n    image: acme/app:1\n    configs: [{source: conf, target: /etc/app.conf}]\n    secrets: [pw]\nconfigs:\n  conf: {file: ./app.conf}\nsecrets:\n  pw: {file: ./pw.txt}\n';
  async function identified(files: Record<string, string>) {
    const r = loadSwarm({ shop: compose }, '', files);
    const out = await identifiedDesired(r.state!, { dir: r.state!.root, revision: null, origin: r.state!.root }, null, new FsWorkingTreeHasher());
    return out.desired!;
  }

  it('are created first, named by content; a changed file is a new object, the service moves, the old one goes', async () => {
    const d1 = await identified({ 'stacks/shop/app.conf': 'a=1\n', 'stacks/shop/pw.txt': 'fixture-secret-planner\n' });
    const p1 = planSwarm(d1, { services: [], networks: [], files: [] });
    expect(p1.ops.map((o) => `${o.wave} ${o.kind}`)).toEqual(['networks network.create', 'volumes file.create', 'volumes file.create', 'apps service.create']);
    const creates = p1.ops.filter((o): o is Extract<SwarmOp, { kind: 'file.create' }> => o.kind === 'file.create');
    expect(creates.map((o) => [o.file.kind, o.object, o.file.path])).toEqual([
      ['config', expect.stringMatching(/^shop_conf-[0-9a-f]{12}$/), 'stacks/shop/app.conf'],
      ['secret', expect.stringMatching(/^shop_pw-[0-9a-f]{12}$/), 'stacks/shop/pw.txt'],
    ]);
    const app = p1.ops.find((o) => o.kind === 'service.create') as Extract<SwarmOp, { kind: 'service.create' }>;
    const spec = engineServiceSpec(app.service.shape, { stack: 'shop', service: 'app', name: 'shop_app', tier: 'app', configHash: app.service.configHash, revision: null }, new Map(), new Map([[creates[1]!.object, 'sec-id']])) as Record<string, any>;
    expect(spec.TaskTemplate.ContainerSpec.Configs).toEqual([{ File: { Name: '/etc/app.conf', UID: '0', GID: '0', Mode: 0o444 }, ConfigID: creates[0]!.object, ConfigName: creates[0]!.object }]);
    expect(spec.TaskTemplate.ContainerSpec.Secrets).toEqual([{ File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 }, SecretID: 'sec-id', SecretName: creates[1]!.object }]);
    expect(JSON.stringify(p1)).not.toContain('fixture-secret-planner');

    const live = {
      services: [{ id: 's1', name: 'shop_app', version: 1, labels: spec.Labels as Record<string, string>, spec, previousSpec: null, updateStatus: null }],
      networks: [{ id: 'n1', name: 'shop_default', driver: 'overlay', attachable: true, internal: false, labels: { 'io.berth.managed': 'true', 'io.berth.stack': 'shop' } }],
      files: creates.map((o, i) => ({ kind: o.file.kind, id: `f${i}`, name: o.object, labels: { 'io.berth.managed': 'true', 'io.berth.stack': 'shop' } })),
    };
    expect(planSwarm(d1, live).ops).toEqual([]);

    const d2 = await identified({ 'stacks/shop/app.conf': 'a=1\n', 'stacks/shop/pw.txt': 'fixture-secret-rotated\n' });
    const p2 = planSwarm(d2, live);
    expect(p2.ops.map((o) => `${o.kind} ${o.object}`)).toEqual([
      expect.stringMatching(/^file\.create shop_pw-[0-9a-f]{12}$/),
      'service.update shop/app',
      `file.remove ${creates[1]!.object}`,
    ]);
    expect(p2.ops[0]!.object).not.toBe(creates[1]!.object);
    expect(p2.ops[1]!.reasons).toEqual([`secret /run/secrets/pw rotated (${p2.ops[0]!.object})`]);
  });
});
