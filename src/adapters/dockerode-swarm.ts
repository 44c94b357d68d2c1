import type Dockerode from 'dockerode';
import { MANAGED_FILTER } from '../labels.js';
import type { Readable } from 'node:stream';
import { readEventLines } from './event-lines.js';
import type { LiveSwarmFile, SwarmEvent, LiveSwarmNetwork, LiveSwarmService, LiveSwarmTask, SwarmFileKind, SwarmNode, SwarmPort } from '../ports/swarm.js';
import type { DockerConnection } from './docker-connection.js';
import { call, DockerEngineError } from './dockerode-docker.js';
import { loadDockerode } from './dockerode-load.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x)]));

/**
 * The SwarmPort on dockerode: each method one Engine API call to the
 * manager of berth.yaml's `mode: swarm` host. The same connection (unix,
 * tcp+TLS, ssh) as an engine host.
 */
export class DockerodeSwarm implements SwarmPort {
  private clientP: Promise<Dockerode> | null = null;

  constructor(private readonly connection: DockerConnection) {}

  private client(): Promise<Dockerode> {
    this.clientP ??= loadDockerode().then((D) => new D(this.connection.options));
    return this.clientP;
  }

  async swarmRole(): Promise<{ nodeId: string; manager: boolean } | null> {
    const info = obj(await call('get engine info', async () => (await this.client()).info()));
    const sw = obj(info.Swarm);
    if (sw.LocalNodeState !== 'active' || typeof sw.NodeID !== 'string' || sw.NodeID === '') return null;
    return { nodeId: sw.NodeID, manager: sw.ControlAvailable === true };
  }

  async nodes(): Promise<SwarmNode[]> {
    const list = await call('list swarm nodes', async () => (await this.client()).listNodes());
    return list.map(obj).map((n) => ({
      id: String(n.ID),
      hostname: String(obj(n.Description).Hostname ?? ''),
      role: obj(n.Spec).Role === 'manager' ? 'manager' : 'worker',
      state: String(obj(n.Status).State ?? 'unknown'),
      availability: String(obj(n.Spec).Availability ?? ''),
    }));
  }

  async listServices(): Promise<LiveSwarmService[]> {
    const list = await call('list services', async () => (await this.client()).listServices({ filters: JSON.stringify({ label: [MANAGED_FILTER] }) } as Dockerode.ServiceListOptions));
    return (list as unknown[]).map(liveService);
  }

  async inspectService(id: string): Promise<LiveSwarmService | null> {
    try {
      return liveService(await call(`inspect service ${id}`, async () => (await this.client()).getService(id).inspect()));
    } catch (e) {
      if (e instanceof DockerEngineError && e.statusCode === 404) return null;
      throw e;
    }
  }

  async listNetworks(): Promise<LiveSwarmNetwork[]> {
    const list = await call('list networks', async () => (await this.client()).listNetworks({ filters: JSON.stringify({ scope: ['swarm'] }) }));
    return (list as unknown[]).map(obj).map((n) => ({
      id: String(n.Id),
      name: String(n.Name),
      driver: String(n.Driver ?? ''),
      attachable: n.Attachable === true,
      internal: n.Internal === true,
      labels: strMap(n.Labels),
    }));
  }

  async listTasks(serviceId: string): Promise<LiveSwarmTask[]> {
    const list = await call(`list tasks of ${serviceId}`, async () => (await this.client()).listTasks({ filters: JSON.stringify({ service: [serviceId] }) }));
    return list.map(toLiveTask);
  }

  async createNetwork(body: Record<string, unknown>): Promise<string> {
    const n = await call(`create network ${String(body.Name)}`, async () => (await this.client()).createNetwork(body as unknown as Dockerode.NetworkCreateOptions));
    return n.id;
  }

  async removeNetwork(id: string): Promise<void> {
    await call(`remove network ${id}`, async () => (await this.client()).getNetwork(id).remove());
  }

  async createService(spec: Record<string, unknown>): Promise<string> {
    const s = await call(`create service ${String(spec.Name)}`, async () => (await this.client()).createService(spec as unknown as Dockerode.CreateServiceOptions));
    return s.id;
  }

  async updateService(id: string, version: number, spec: Record<string, unknown>, opts: { rollback?: boolean } = {}): Promise<void> {
    // docker-modem: `_query` goes to the query string, `_body` is the JSON body.
    const query = { version, ...(opts.rollback ? { rollback: 'previous' } : {}) };
    await call(`${opts.rollback ? 'roll back' : 'update'} service ${String(spec.Name ?? id)}`, async () => (await this.client()).getService(id).update({ _query: query, _body: spec }));
  }

  async listSwarmFiles(): Promise<LiveSwarmFile[]> {
    const filters = JSON.stringify({ label: [MANAGED_FILTER] });
    const [configs, secrets] = await Promise.all([
      call('list configs', async () => (await this.client()).listConfigs({ filters })),
      call('list secrets', async () => (await this.client()).listSecrets({ filters })),
    ]);
    const file = (kind: SwarmFileKind) => (raw: unknown): LiveSwarmFile => {
      const f = obj(raw);
      const spec = obj(f.Spec);
      return { kind, id: String(f.ID), name: String(spec.Name ?? ''), labels: strMap(spec.Labels) };
    };
    return [...(configs as unknown[]).map(file('config')), ...(secrets as unknown[]).map(file('secret'))];
  }

  async createSwarmFile(kind: SwarmFileKind, name: string, labels: Record<string, string>, data: Buffer): Promise<string> {
    const body = { Name: name, Labels: labels, Data: data.toString('base64') };
    const r = obj(await call(`create ${kind} ${name}`, async () => (kind === 'config' ? (await this.client()).createConfig(body) : (await this.client()).createSecret(body))));
    return String(r.id ?? r.ID ?? '');
  }

  async removeSwarmFile(kind: SwarmFileKind, id: string): Promise<void> {
    await call(`remove ${kind} ${id}`, async () => (kind === 'config' ? (await this.client()).getConfig(id).remove() : (await this.client()).getSecret(id).remove()));
  }

  async removeService(id: string): Promise<void> {
    try {
      await call(`remove service ${id}`, async () => (await this.client()).getService(id).remove());
    } catch (e) {
      if (!(e instanceof DockerEngineError && e.statusCode === 404)) throw e;
    }
  }

  events(onEvent: (e: SwarmEvent) => void, onError: (err: Error) => void): () => void {
    let closed = false;
    let stream: Readable | null = null;
    const fail = (err: Error) => {
      if (closed) return;
      closed = true;
      stream?.destroy();
      onError(err);
    };
    const what = 'docker events (swarm services and nodes)';
    this.client()
      .then((d) => d.getEvents({ filters: { type: ['service', 'node'] } }))
      .then(
        (s) => {
          stream = s as Readable;
          if (closed) {
            stream.destroy();
            return;
          }
          readEventLines(
            stream,
            what,
            (value) => {
              const raw = obj(value);
              const type = raw.Type;
              if (type !== 'service' && type !== 'node') return;
              onEvent({ type, action: String(raw.Action ?? ''), name: String(obj(obj(raw.Actor).Attributes).name ?? '') });
            },
            fail,
          );
        },
        (err: unknown) => fail(new Error(`${what}: ${(err as Error).message}`)),
      );
    return () => {
      closed = true;
      stream?.destroy();
    };
  }
}

/** One entry of `GET /tasks` as the port's task view (exported for its unit test). */
export function toLiveTask(raw: unknown): LiveSwarmTask {
  const t = obj(raw);
  const cs = obj(obj(t.Spec).ContainerSpec);
  const status = obj(t.Status);
  return {
    id: String(t.ID),
    serviceId: String(t.ServiceID),
    slot: typeof t.Slot === 'number' ? t.Slot : 0,
    nodeId: String(t.NodeID ?? ''),
    desiredState: String(t.DesiredState ?? ''),
    state: String(status.State ?? ''),
    error: String(status.Err ?? ''),
    spec: t.Spec ?? null,
    image: String(cs.Image ?? ''),
    addresses: taskAddresses(t.NetworksAttachments),
  };
}

/** `10.0.1.5/24` → `10.0.1.5`, over every network the task is attached to. */
function taskAddresses(attachments: unknown): string[] {
  if (!Array.isArray(attachments)) return [];
  return attachments.flatMap((a) => {
    const list = obj(a).Addresses;
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => x.replace(/\/\d+$/, '')) : [];
  });
}

function liveService(raw: unknown): LiveSwarmService {
  const s = obj(raw);
  const spec = obj(s.Spec);
  const us = s.UpdateStatus === undefined ? null : obj(s.UpdateStatus);
  return {
    id: String(s.ID),
    name: String(spec.Name ?? ''),
    version: Number(obj(s.Version).Index ?? 0),
    labels: strMap(spec.Labels),
    spec: s.Spec,
    previousSpec: s.PreviousSpec ?? null,
    updateStatus: us ? { state: String(us.State ?? ''), message: String(us.Message ?? '') } : null,
    virtualIps: (Array.isArray(obj(s.Endpoint).VirtualIPs) ? (obj(s.Endpoint).VirtualIPs as unknown[]) : []).map((v) => String(obj(v).Addr ?? '').split('/')[0]!).filter((a) => a !== ''),
  };
}
