import { describe, expect, it } from 'vitest';
import { controllerContext } from '../../controllers/context.js';
import { planNetworks } from '../../controllers/network.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { LiveState } from '../../src/model/live.js';
import type { NetworkRecreateOp } from '../../src/model/plan.js';
import {
  desiredFrom,
  emptyLive,
  liveContainer,
  liveFor,
  liveNetwork,
  managedLabels,
  networkFor,
  stackRepo,
  withInventory,
} from '../support/plan-fixtures.js';

const INFRA = `
services:
  proxy:
    image: busybox:1
    networks: [edge, backend]
networks:
  edge:
    name: edge
  backend:
    name: backend
    internal: true
  fixed:
    name: fixed
    ipam:
      config:
        - subnet: 10.10.0.0/24
          gateway: 10.10.0.1
`;

const APP = `
services:
  web:
    image: busybox:1
    networks: [edge]
networks:
  edge:
    external: true
`;

function plan(desired: DesiredState, live: LiveState) {
  return planNetworks(desired, live, null, controllerContext(desired, live, withInventory(null, live)));
}

function netSpec(d: DesiredState, name: string) {
  const n = d.stacks.flatMap((s) => s.networks).find((x) => x.name === name && !x.external);
  if (!n) throw new Error(name);
  return n;
}

describe('network controller', () => {
  const desired = desiredFrom(stackRepo({ infra: INFRA, app: APP }));

  it('creates every network a stack defines that the host lacks, with reason "missing"', () => {
    const r = plan(desired, emptyLive());
    expect(r.errors).toEqual([]);
    expect(r.ops.map((o) => [o.kind, o.id, o.wave, o.action, o.stack, o.object, o.reasons])).toEqual([
      ['network.create', 'network:backend', 'networks', 'create', 'infra', 'backend', ['missing']],
      ['network.create', 'network:edge', 'networks', 'create', 'infra', 'edge', ['missing']],
      ['network.create', 'network:fixed', 'networks', 'create', 'infra', 'fixed', ['missing']],
    ]);
  });

  it('plans nothing when the host matches', () => {
    expect(plan(desired, liveFor(desired))).toEqual({ ops: [], errors: [], warnings: [] });
  });

  it('refuses a name taken by an unmanaged network, naming it', () => {
    const live = liveFor(desired);
    live.networks = live.networks.map((n) => (n.name === 'edge' ? liveNetwork({ name: 'edge', labels: { owner: 'someone' } }) : n));
    const r = plan(desired, live);
    expect(r.ops.filter((o) => o.object === 'edge')).toEqual([]);
    expect(r.errors).toEqual([
      {
        code: 'network-unmanaged',
        stack: 'infra',
        object: 'edge',
        message: 'network edge exists but is not managed by berth; remove it or declare it `external: true`',
      },
    ]);
  });

  it('recreates a managed network whose internal flag changed, listing the managed containers to reconnect', () => {
    const live = liveFor(desired);
    live.networks = live.networks.map((n) => (n.name === 'backend' ? { ...n, internal: false } : n));
    const r = plan(desired, live);
    expect(r.errors).toEqual([]);
    expect(r.ops).toHaveLength(1);
    const op = r.ops[0] as NetworkRecreateOp;
    expect(op).toMatchObject({
      kind: 'network.recreate',
      id: 'network:backend',
      action: 'recreate',
      reasons: ['internal false → true'],
      liveId: live.networks.find((n) => n.name === 'backend')!.id,
      attached: ['infra-proxy-1'],
    });
    expect(op.network).toEqual(netSpec(desired, 'backend'));
  });

  it('refuses to recreate a network an unmanaged container is attached to, naming the container', () => {
    const live = liveFor(desired);
    live.networks = live.networks.map((n) => (n.name === 'backend' ? { ...n, internal: false } : n));
    live.containers.push(liveContainer({ name: 'debug-shell', id: 'f00dfeedbeef0123456789', image: 'alpine:3', networks: ['backend'] }));
    const r = plan(desired, live);
    expect(r.ops).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ code: 'network-recreate-blocked', stack: 'infra', object: 'backend' });
    expect(r.errors[0]!.message).toContain('debug-shell (id f00dfeedbeef, image alpine:3)');
    expect(r.errors[0]!.message).toContain('internal false → true');
    expect(r.errors[0]!.message).not.toContain('infra-proxy-1');
  });

  it('names every immutable setting that differs', () => {
    const live = liveFor(desired);
    live.networks = live.networks.map((n) =>
      n.name === 'fixed'
        ? { ...n, driver: 'macvlan', attachable: true, enableIpv6: true, ipam: { driver: 'default', config: [{ subnet: '10.20.0.0/24', gateway: '10.20.0.1' }] } }
        : n,
    );
    const r = plan(desired, live);
    expect(r.ops.map((o) => o.reasons)).toEqual([
      ['driver macvlan → bridge', 'attachable true → false', 'enable_ipv6 true → false', 'subnet 10.20.0.0/24 → 10.10.0.0/24', 'gateway 10.20.0.1 → 10.10.0.1'],
    ]);
  });

  it('ignores the subnet Docker picked when the repo sets none', () => {
    const live = liveFor(desired);
    live.networks = live.networks.map((n) =>
      n.name === 'fixed' ? { ...n, ipam: { driver: 'default', config: [{ subnet: '10.10.0.0/24', gateway: '10.10.0.1' }] } } : { ...n, ipam: { driver: 'default', config: [{ subnet: '172.30.0.0/16' }] } },
    );
    expect(plan(desired, live).ops).toEqual([]);
  });

  describe('external networks', () => {
    it('accepts an external network another stack of the repo creates in this plan', () => {
      const r = plan(desired, emptyLive());
      expect(r.errors).toEqual([]);
    });

    it('accepts an external network that exists on the host, managed or not', () => {
      const only = desiredFrom(stackRepo({ app: APP }));
      const live = emptyLive();
      live.networks.push(liveNetwork({ name: 'edge', labels: {} }));
      expect(plan(only, live)).toEqual({ ops: [], errors: [], warnings: [] });
    });

    it('is an error when neither the host nor any stack has it', () => {
      const only = desiredFrom(stackRepo({ app: APP }));
      const r = plan(only, emptyLive());
      expect(r.ops).toEqual([]);
      expect(r.errors).toEqual([
        {
          code: 'network-external-missing',
          stack: 'app',
          object: 'edge',
          message: 'external network edge does not exist on the host and no stack in the repository defines it; create it (docker network create edge) or define it in a stack',
        },
      ]);
    });
  });

  describe('prune', () => {
    const gone = (labels = managedLabels('old')) => liveNetwork({ name: 'old_default', labels });

    it('removes a managed network of a stack that left the repository', () => {
      const live = liveFor(desired);
      live.networks.push(gone());
      const r = plan(desired, live);
      expect(r.ops).toEqual([
        {
          kind: 'network.remove',
          id: 'network:old_default',
          wave: 'networks',
          action: 'remove',
          stack: 'old',
          object: 'old_default',
          reasons: ['stack "old" is no longer in the repository'],
          after: [],
          name: 'old_default',
          liveId: gone().id,
        },
      ]);
    });

    it('says "no longer declared" for a network its still-present stack dropped', () => {
      const live = liveFor(desired);
      live.networks.push(liveNetwork({ name: 'infra_legacy', labels: managedLabels('infra') }));
      expect(plan(desired, live).ops.map((o) => o.reasons)).toEqual([['no longer declared by stack "infra"']]);
    });

    it('never touches unmanaged networks, nor managed ones a stack still references as external', () => {
      const only = desiredFrom(stackRepo({ app: APP }));
      const live = emptyLive();
      live.networks.push(liveNetwork({ name: 'edge', labels: managedLabels('infra') }), liveNetwork({ name: 'bridge' }), liveNetwork({ name: 'host', driver: 'host' }));
      expect(plan(only, live)).toEqual({ ops: [], errors: [], warnings: [] });
    });

    it('leaves the network with a warning when prune is off, globally or for its stack', () => {
      const off = desiredFrom({ ...stackRepo({ infra: INFRA, app: APP }), 'berth.yaml': 'policy:\n  prune: false\n' });
      const live = liveFor(off);
      live.networks.push(gone());
      const r = plan(off, live);
      expect(r.ops).toEqual([]);
      expect(r.warnings).toEqual(['network old_default: stack "old" is no longer in the repository; prune is off for stack "old", left in place']);

      const perStack = structuredClone(desired);
      perStack.settings.stacks.old = { prune: false };
      expect(plan(perStack, live).ops).toEqual([]);

      const onForStack = structuredClone(off);
      onForStack.settings.stacks.old = { prune: true };
      expect(plan(onForStack, live).ops.map((o) => o.id)).toEqual(['network:old_default']);
    });

    it('leaves the network with a warning when an unmanaged container is attached', () => {
      const live = liveFor(desired);
      live.networks.push(gone());
      live.containers.push(liveContainer({ name: 'stray', id: 'abcabcabcabc999', image: 'alpine:3', networks: ['old_default'] }));
      const r = plan(desired, live);
      expect(r.ops).toEqual([]);
      expect(r.warnings).toEqual([
        'network old_default: stack "old" is no longer in the repository, but containers not managed by berth are attached (stray (id abcabcabcabc, image alpine:3)); left in place',
      ]);
    });
  });

  it('warns when the host has two networks with one name and uses the managed one', () => {
    const live = liveFor(desired);
    const edge = live.networks.find((n) => n.name === 'edge')!;
    live.networks.push(liveNetwork({ name: 'edge', id: '0000aaaa0000bbbb', labels: {} }));
    const r = plan(desired, live);
    expect(r.errors).toEqual([]);
    expect(r.ops).toEqual([]);
    expect(r.warnings).toEqual([`network edge: the host has 2 networks with this name (ids 0000aaaa0000, ${edge.id.slice(0, 12)}); berth uses ${edge.id.slice(0, 12)}`]);
  });

  it('reports a network two stacks both define (a hand-built state; validation rejects it)', () => {
    const d = structuredClone(desired);
    const app = d.stacks.find((s) => s.name === 'app')!;
    app.networks = [{ ...netSpec(desired, 'edge'), stack: 'app', key: 'edge' }];
    const r = plan(d, liveFor(desired));
    expect(r.errors).toEqual([
      expect.objectContaining({ code: 'network-duplicate', stack: 'infra', object: 'edge' }),
    ]);
  });

  it('does not depend on the order Docker lists networks in', () => {
    const live = liveFor(desired);
    live.networks = live.networks.map((n) => (n.name === 'backend' ? { ...n, internal: false } : n));
    live.networks.push(liveNetwork({ name: 'zz_old', labels: managedLabels('zz') }), liveNetwork({ name: 'aa_old', labels: managedLabels('aa') }));
    const reversed = { ...live, networks: [...live.networks].reverse(), containers: [...live.containers].reverse() };
    expect(plan(desired, reversed)).toEqual(plan(desired, live));
  });

  it('networkFor builds a live network that matches its spec', () => {
    expect(plan(desired, { ...emptyLive(), networks: [networkFor(netSpec(desired, 'edge'))] }).ops.map((o) => o.id)).toEqual([
      'network:backend',
      'network:fixed',
    ]);
  });
});
