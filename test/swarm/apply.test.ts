import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/ports/clock.js';
import type { TraefikPort, TraefikService } from '../../src/ports/traefik.js';
import { swarmBakeGateFactory } from '../../src/rollout/traefik-bake-gate.js';
import type { SwarmBakeGate } from '../../src/rollout/types.js';
import type { LiveSwarmFile, LiveSwarmNetwork, LiveSwarmService, LiveSwarmTask, SwarmPort } from '../../src/ports/swarm.js';
import { applySwarm, type SwarmApplyDeps } from '../../src/swarm/apply.js';
import { liveShape } from '../../src/swarm/engine-spec.js';
import { planSwarm } from '../../src/swarm/plan.js';
import { swarmDesired } from './fixtures.js';

/**
 * A manager in memory: services keep spec and previous spec; each look at a
 * service's tasks "runs" its current spec — unless its image is in `failing`,
 * whose tasks fail. A task's address tells its service's spec version
 * (10.0.<version>.<slot>). Every call is logged in order.
 */
class FakeManager implements SwarmPort {
  readonly calls: string[] = [];
  readonly services = new Map<string, LiveSwarmService>();
  readonly networks: LiveSwarmNetwork[] = [];
  constructor(private readonly failing: Set<string> = new Set()) {}
  async swarmRole() {
    return { nodeId: 'n1', manager: true };
  }
  async nodes() {
    return [];
  }
  /** applySwarm never listens: a pass is its caller's business. */
  events() {
    return () => undefined;
  }
  async listServices() {
    return [...this.services.values()];
  }
  async inspectService(id: string) {
    return this.services.get(id) ?? null;
  }
  async listNetworks() {
    return this.networks;
  }
  async listTasks(id: string): Promise<LiveSwarmTask[]> {
    const s = this.services.get(id)!;
    const spec = s.spec as { TaskTemplate: unknown };
    const image = liveShape(s.spec, new Map()).image;
    const mode = liveShape(s.spec, new Map()).mode;
    const n = mode === 'global' ? 1 : mode.replicated;
    const state = this.failing.has(image) ? 'failed' : 'running';
    return Array.from({ length: n }, (_, i) => ({ id: `${id}.${i}`, serviceId: id, slot: i + 1, nodeId: 'n1', desiredState: state === 'failed' ? 'shutdown' : 'running', state, error: state === 'failed' ? 'task: non-zero exit (1)' : '', spec: spec.TaskTemplate, image, addresses: [`10.0.${s.version}.${i + 1}`] }));
  }
  async createNetwork(body: Record<string, unknown>) {
    this.calls.push(`network.create ${String(body.Name)}`);
    this.networks.push({ id: `net-${String(body.Name)}`, name: String(body.Name), driver: 'overlay', attachable: true, internal: false, labels: body.Labels as Record<string, string> });
    return `net-${String(body.Name)}`;
  }
  async removeNetwork(id: string) {
    this.calls.push(`network.remove ${id}`);
  }
  async createService(spec: Record<string, unknown>) {
    const id = `svc-${String(spec.Name)}`;
    this.calls.push(`service.create ${String(spec.Name)}`);
    this.services.set(id, { id, name: String(spec.Name), version: 1, labels: spec.Labels as Record<string, string>, spec, previousSpec: null, updateStatus: null });
    return id;
  }
  async updateService(id: string, version: number, spec: Record<string, unknown>, opts: { rollback?: boolean } = {}) {
    const s = this.services.get(id)!;
    if (version !== s.version) throw new Error('update out of sequence');
    this.calls.push(`service.${opts.rollback ? 'rollback' : 'update'} ${s.name}`);
    const next = opts.rollback ? s.previousSpec! : spec;
    this.services.set(id, { ...s, version: version + 1, spec: next, previousSpec: s.spec, labels: (next as { Labels: Record<string, string> }).Labels, updateStatus: { state: opts.rollback ? 'rollback_started' : 'updating', message: '' } });
  }
  async removeService(id: string) {
    this.calls.push(`service.remove ${id}`);
    this.services.delete(id);
  }
  async listSwarmFiles(): Promise<LiveSwarmFile[]> {
    return [];
  }
  async createSwarmFile(): Promise<string> {
    throw new Error('no files in these tests');
  }
  async removeSwarmFile() {}
}

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
  });
});
