import type { LiveSwarmFile, LiveSwarmNetwork, LiveSwarmService, LiveSwarmTask, SwarmPort } from '../../src/ports/swarm.js';
import { liveShape } from '../../src/swarm/engine-spec.js';

/**
 * A manager in memory: services keep spec and previous spec; each look at a
 * service's tasks "runs" its current spec — unless its image is in `failing`,
 * whose tasks fail. A task's address tells its service's spec version
 * (10.0.<version>.<slot>). Every call is logged in order.
 */
export class FakeManager implements SwarmPort {
  /** Every service create is refused (a name taken, the manager's own error): the create fails, nothing is made. */
  refuseCreate = false;
  /** What inspectService reports as the services' VIPs (`Endpoint.VirtualIPs`). */
  virtualIps: string[] = [];
  readonly calls: string[] = [];
  readonly services = new Map<string, LiveSwarmService>();
  readonly networks: LiveSwarmNetwork[] = [];
  constructor(private readonly failing: Set<string> = new Set()) {}
  /** Runs when the plan reads the manager's configs and secrets, after it read the services: a hand change made while berth plans. */
  whilePlanning: (() => void) | null = null;
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
    const s = this.services.get(id);
    return s ? { ...s, virtualIps: this.virtualIps } : null;
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
    if (this.refuseCreate) {
      this.calls.push(`service.create ${String(spec.Name)} refused`);
      throw new Error('rpc error: code = Unknown desc = refused by the fake manager');
    }
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
    this.whilePlanning?.();
    return [];
  }
  async createSwarmFile(): Promise<string> {
    throw new Error('no files in these tests');
  }
  async removeSwarmFile() {}

  /** `docker service update --image` by hand: a new spec version, the labels (config hash) kept. */
  handUpdateImage(name: string, image: string): void {
    const s = [...this.services.values()].find((x) => x.name === name)!;
    const spec = structuredClone(s.spec) as { TaskTemplate: { ContainerSpec: { Image: string } } };
    spec.TaskTemplate.ContainerSpec.Image = image;
    this.services.set(s.id, { ...s, version: s.version + 1, spec, previousSpec: s.spec });
  }
}
