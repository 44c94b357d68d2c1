import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/ports/clock.js';
import type { TraefikPort, TraefikService } from '../../src/ports/traefik.js';
import { swarmBakeGateFactory } from '../../src/rollout/traefik-bake-gate.js';
import type { SwarmBakeGate } from '../../src/rollout/types.js';
import { applySwarm, type SwarmApplyDeps } from '../../src/swarm/apply.js';
import { liveShape } from '../../src/swarm/engine-spec.js';
import { planSwarm } from '../../src/swarm/plan.js';
import { FakeManager } from './fake-manager.js';
import { swarmDesired } from './fixtures.js';

const clock: Clock = { now: () => 0, sleep: async () => undefined };
const stack = (web: string) => `services:\n  db:\n    image: postgres:18.1\n    deploy: {placement: {constraints: [node.role == manager]}}\n  web:\n    image: ${web}\n    depends_on: [db]\n    deploy: {replicas: 2}\n`;

async function apply(manager: FakeManager, web: string, opts: { compose?: string; bake?: SwarmBakeGate; clock?: Clock; progress?: SwarmApplyDeps['progress'] } = {}) {
  const desired = swarmDesired({ shop: opts.compose ?? stack(web) });
  const plan = planSwarm(desired, { services: await manager.listServices(), networks: manager.networks });
  return applySwarm(plan, { swarm: manager, clock: opts.clock ?? clock, readFile: async () => Buffer.alloc(0), revision: 'r1', timeoutMs: 10_000, bake: opts.bake, progress: opts.progress });
}

/** The stack with web routed through Traefik by its deploy labels (what Traefik's swarm provider reads). */
const routed = (web: string) =>
  `services:\n  db:\n    image: postgres:18.1\n    deploy: {placement: {constraints: [node.role == manager]}}\n  web:\n    image: ${web}\n    depends_on: [db]\n    deploy:\n      replicas: 2\n      labels: {traefik.enable: "true", traefik.http.routers.web.rule: "Host(\`shop.example\`)", traefik.http.services.web.loadbalancer.server.port: "80"}\n`;

/** A bake that records what it was asked and fails for the images in `failing`. */
function recordingBake(failing: Set<string> = new Set()) {
  const calls: Parameters<SwarmBakeGate>[0][] = [];
  const gate: SwarmBakeGate = async (input) => {
    calls.push(input);
    if (failing.size > 0) throw new Error('new container not registered in Traefik within 10s: web@docker does not list 10.0.2.1');
    return 'traefik: web@docker baked 10s';
  };
  return { calls, gate };
}

/** Traefik's API in memory: web@docker lists the servers on `up` as UP. */
function traefikWith(up: () => string[]): TraefikPort {
  const services = async (): Promise<TraefikService[]> => {
    const urls = up().map((h) => `http://${h}:80`);
    return [{ name: 'web@docker', status: 'enabled', loadBalancer: { servers: urls.map((url) => ({ url })) }, serverStatus: Object.fromEntries(urls.map((u) => [u, 'UP'])) }];
  };
  return { services, routers: async () => [], overview: async () => ({}), metrics: async () => null };
}

describe('applySwarm', () => {
  it('creates networks first, then the database, and the app only once the database runs', async () => {
    const m = new FakeManager();
    const r = await apply(m, 'acme/web:1');
    expect(r.ok).toBe(true);
    expect(m.calls).toEqual(['network.create shop_default', 'service.create shop_db', 'service.create shop_web']);
    expect(r.results.map((x) => `${x.op.object} ${x.outcome.result}`)).toEqual(['shop_default ok', 'shop/db ok', 'shop/web ok']);
  });

  it('a failing update is rolled back to the previous spec and nothing after it runs', async () => {
    const m = new FakeManager(new Set(['acme/web:bad']));
    expect((await apply(m, 'acme/web:1')).ok).toBe(true);
    m.calls.length = 0;
    const r = await apply(m, 'acme/web:bad');
    expect(r.ok).toBe(false);
    expect(m.calls).toEqual(['service.update shop_web', 'service.rollback shop_web']);
    expect(r.results.map((x) => [x.op.object, x.outcome.result])).toEqual([['shop/web', 'rolled-back']]);
    expect(r.results[0]!.outcome.message).toMatch(/^task 1 failed: task: non-zero exit \(1\); rolled back to the previous spec, its tasks run again$/);
    expect(liveShape([...m.services.values()].find((s) => s.name === 'shop_web')!.spec, new Map()).image).toBe('acme/web:1');
  });

  describe('the Traefik bake (berth.yaml traefik:)', () => {
    it('a routed service whose bake fails is rolled back to the previous spec, the failure naming traefik', async () => {
      const m = new FakeManager();
      expect((await apply(m, '', { compose: routed('acme/web:1') })).ok).toBe(true);
      m.calls.length = 0;
      const bake = recordingBake(new Set(['acme/web:2']));
      const r = await apply(m, '', { compose: routed('acme/web:2'), bake: bake.gate });
      expect(r.ok).toBe(false);
      expect(m.calls).toEqual(['service.update shop_web', 'service.rollback shop_web']);
      expect(r.results.map((x) => [x.op.object, x.outcome.result])).toEqual([['shop/web', 'rolled-back']]);
      expect(r.results[0]!.outcome.message).toMatch(/^traefik bake failed: new container not registered in Traefik .*; rolled back to the previous spec, its tasks run again$/);
      expect(liveShape([...m.services.values()].find((s) => s.name === 'shop_web')!.spec, new Map()).image).toBe('acme/web:1');
      // Asked about the new tasks (spec version 2), by the service's deploy labels and swarm name.
      expect(bake.calls).toHaveLength(1);
      expect(bake.calls[0]).toMatchObject({ stack: 'shop', service: 'web', name: 'shop_web', serverHosts: ['10.0.2.1', '10.0.2.2'] });
      expect(bake.calls[0]!.labels['traefik.http.routers.web.rule']).toBe('Host(`shop.example`)');
    });

    it('a bake that passes: applied, its line in the report', async () => {
      const m = new FakeManager();
      const bake = recordingBake();
      const r = await apply(m, '', { compose: routed('acme/web:1'), bake: bake.gate });
      expect(r.ok).toBe(true);
      expect(r.results.map((x) => `${x.op.object} ${x.outcome.result}: ${x.outcome.message}`)).toEqual(['shop_default ok: created', 'shop/db ok: created, tasks running', 'shop/web ok: created, tasks running; traefik: web@docker baked 10s']);
      // The database carries no traefik.* deploy labels: never baked.
      expect(bake.calls.map((c) => c.name)).toEqual(['shop_web']);
    });

    it('an unrouted service, or one routed only by container labels (which the swarm provider does not read), is not baked', async () => {
      const m = new FakeManager();
      const bake = recordingBake(new Set(['any']));
      const containerLabelled = `${stack('acme/web:1')}    labels: {traefik.http.routers.web.rule: "Host(\`shop.example\`)"}\n`;
      expect((await apply(m, '', { compose: containerLabelled, bake: bake.gate })).ok).toBe(true);
      expect(bake.calls).toEqual([]);
    });

    it("with the real bake: Traefik must list the new tasks' addresses, not the old ones", async () => {
      const m = new FakeManager();
      expect((await apply(m, '', { compose: routed('acme/web:1') })).ok).toBe(true);
      const desired = swarmDesired({ shop: routed('acme/web:2') }, 'traefik:\n  api: http://traefik:8080\nrollout:\n  bakeSeconds: 2\n');
      // Time moves by the sleeps: the bake's deadlines come.
      let t = 0;
      const ticking: Clock = { now: () => t, sleep: async (ms) => void (t += ms) };
      let listed = ['10.0.1.1', '10.0.1.2'];
      const gate = swarmBakeGateFactory(ticking, () => traefikWith(() => listed))(desired)!;
      const failed = await apply(m, '', { compose: routed('acme/web:2'), bake: gate, clock: ticking });
      expect(failed.results[0]!.outcome).toMatchObject({ result: 'rolled-back', message: expect.stringMatching(/^traefik bake failed: new container not registered in Traefik within 2s: Traefik lists no server on 10\.0\.2\.1, 10\.0\.2\.2/) });
      listed = ['10.0.4.1', '10.0.4.2'];
      const passed = await apply(m, '', { compose: routed('acme/web:2'), bake: gate, clock: ticking });
      expect(passed.ok).toBe(true);
      expect(passed.results[0]!.outcome.message).toBe('updated, tasks running; traefik: web@docker baked 2s (http://10.0.4.1:80, http://10.0.4.2:80 in web@docker UP)');
    });
    it('with lbswarm, Traefik lists the service VIP, not its tasks: the bake looks for the VIP; without a VIP (dnsrr) it is not checked', async () => {
      const lb = (web: string, extra = '') => routed(web).replace('traefik.enable: "true"', `traefik.enable: "true", traefik.docker.lbswarm: "true"${extra}`);
      const m = new FakeManager();
      m.virtualIps = ['10.0.9.5'];
      const bake = recordingBake();
      expect((await apply(m, '', { compose: lb('acme/web:1'), bake: bake.gate })).ok).toBe(true);
      expect(bake.calls.map((c) => c.serverHosts)).toEqual([['10.0.9.5']]);
      m.virtualIps = [];
      const r = await apply(m, '', { compose: lb('acme/web:2'), bake: bake.gate });
      expect(r.ok).toBe(true);
      expect(r.results[0]!.outcome.message).toBe('updated, tasks running; traefik: not checked (lbswarm, but the service has no virtual IP: endpoint_mode dnsrr)');
      expect(bake.calls).toHaveLength(1);
    });
  });
});
