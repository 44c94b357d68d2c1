import { PassThrough, type Readable } from 'node:stream';
import { readEventLines } from './event-lines.js';
import type Dockerode from 'dockerode';
import { LABEL, MANAGED_FILTER } from '../labels.js';
import type { NetworkSpec, ServiceNetwork, ServiceSpec, VolumeSpec } from '../model/desired.js';
import type { ContainerState, Health, LiveContainer, LiveImage, LiveNetwork, LiveVolume } from '../model/live.js';
import { BuildError, type BuildRequest, type ContainerDetails, type CreateContainerOptions, type DockerEvent, type DockerPort, type ExecOptions, type PullLimits, type PullProgress } from '../ports/docker.js';
import { PullWatchdog } from './pull-watchdog.js';
import type { RegistryAuth } from '../ports/registry.js';
import { BuildOutput } from './build-output.js';
import { apiAtLeast, containerCreateBody, endpointLinks, endpointSettings, MULTI_NETWORK_CREATE_API, networksInOrder } from './container-body.js';
import { dockerConnectionFromEnv, type DockerConnection } from './docker-connection.js';
import { loadDockerode } from './dockerode-load.js';
import { engineGetter, EngineHttpError, type EngineGet } from './engine-http.js';

/**
 * The DockerPort on dockerode 4. Every method is one Engine API call, except
 * createContainer on API < 1.44 (create on the first network, then connect
 * the others before returning) and exec (create, start, inspect).
 *
 * Errors are `DockerEngineError`s: the operation and the engine's own message,
 * e.g. `create container web-web-1: Conflict. The container name "/web-web-1"
 * is already in use by container "…"`, with the HTTP status for callers that
 * need to tell "not found" from "conflict".
 */
export class DockerEngineError extends Error {
  constructor(
    readonly operation: string,
    /** HTTP status from the engine; null when the engine was not reached. */
    readonly statusCode: number | null,
    readonly engineMessage: string,
  ) {
    super(`${operation}: ${engineMessage}`);
    this.name = 'DockerEngineError';
  }
}

/** Output kept from an exec (the tail: the end of a failing command says why). */
export const EXEC_OUTPUT_LIMIT = 16 * 1024;
/** Characters of the last health probe's output kept for failure messages. */
export const HEALTH_OUTPUT_LIMIT = 500;

type DockerodeError = Error & { statusCode?: number; json?: unknown; reason?: string };

function engineMessage(err: unknown): { status: number | null; message: string } {
  const e = err as DockerodeError;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : null;
  let msg: string | undefined;
  const json = e?.json as { message?: unknown } | string | Buffer | null | undefined;
  if (json && typeof json === 'object' && !Buffer.isBuffer(json) && typeof json.message === 'string') msg = json.message;
  else if (typeof json === 'string' && json.trim() !== '') msg = json.trim();
  else if (Buffer.isBuffer(json) && json.length > 0) {
    try {
      const parsed = JSON.parse(json.toString('utf8')) as { message?: string };
      msg = parsed.message ?? json.toString('utf8');
    } catch {
      msg = json.toString('utf8');
    }
  }
  if (!msg) msg = String(e?.message ?? err).replace(/^\(HTTP code \d+\) [\w ]+ - /, '');
  return { status, message: msg.trim() };
}

function wrap(operation: string, err: unknown): DockerEngineError {
  if (err instanceof DockerEngineError) return err;
  const { status, message } = engineMessage(err);
  return new DockerEngineError(operation, status, message);
}

/** One engine call, its failure as a DockerEngineError naming the operation (the swarm adapter shares it). */
export async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrap(operation, err);
  }
}

/** Health from Docker's status text: "Up 5 minutes (healthy)", "(unhealthy)", "(health: starting)". */
export function healthFromStatus(status: string): Health {
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(health: starting)')) return 'starting';
  return null;
}

function healthFromInspect(s: string | undefined): Health {
  return s === 'healthy' || s === 'unhealthy' || s === 'starting' ? s : null;
}

const CONTAINER_STATES = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

export function toLiveContainer(c: Dockerode.ContainerInfo): LiveContainer {
  const state = (c.State ?? '').toLowerCase() as ContainerState;
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    imageId: c.ImageID,
    state: CONTAINER_STATES.has(state) ? state : 'dead',
    status: c.Status ?? '',
    health: healthFromStatus(c.Status ?? ''),
    labels: { ...(c.Labels ?? {}) },
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort(),
    created: c.Created,
  };
}

export function toLiveNetwork(n: Dockerode.NetworkInspectInfo): LiveNetwork {
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    internal: n.Internal === true,
    attachable: n.Attachable === true,
    enableIpv6: n.EnableIPv6 === true,
    ipam: {
      driver: n.IPAM?.Driver ?? 'default',
      config: (n.IPAM?.Config ?? []).map((c) => {
        const o: LiveNetwork['ipam']['config'][number] = {};
        if (c.Subnet) o.subnet = c.Subnet;
        if (c.IPRange) o.ipRange = c.IPRange;
        if (c.Gateway) o.gateway = c.Gateway;
        return o;
      }),
    },
    labels: { ...(n.Labels ?? {}) },
  };
}

/** Entries per what-is-managed cache of the event filter before it starts over. */
const EVENT_CACHE_LIMIT = 5000;

/** Event attributes of a container that are not its labels. */
const CONTAINER_EVENT_ATTRS = new Set(['image', 'name', 'exitCode', 'signal', 'execID', 'oldName', 'container', 'type']);

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

export interface DockerodeDockerOptions {
  /** A ready client; default: one built from DOCKER_HOST & co. (docker-connection.ts). */
  docker?: Dockerode;
  /** The connection to use (default: from the process environment). */
  connection?: DockerConnection;
}

export class DockerodeDocker implements DockerPort {
  private clientP: Promise<Dockerode> | null;
  private readonly get: EngineGet | null;
  private readonly connection: DockerConnection;
  private versionP: Promise<{ version: string; apiVersion: string }> | null = null;

  constructor(opts: DockerodeDockerOptions = {}) {
    this.connection = opts.connection ?? dockerConnectionFromEnv();
    this.clientP = opts.docker ? Promise.resolve(opts.docker) : null;
    // The read path (list calls) skips dockerode when a plain socket/tcp GET can do.
    this.get = opts.docker ? null : engineGetter(this.connection);
  }

  /** A client for the engine DOCKER_HOST & co. name (unix socket, tcp+TLS, ssh), as the docker CLI finds it. */
  static fromEnv(env: Record<string, string | undefined> = process.env): DockerodeDocker {
    return new DockerodeDocker({ connection: dockerConnectionFromEnv(env) });
  }

  /** dockerode, loaded on first use: a no-op pass never needs it. */
  private client(): Promise<Dockerode> {
    this.clientP ??= loadDockerode().then((D) => new D(this.connection.options));
    return this.clientP;
  }

  /** A list call: plain GET when possible, else dockerode. */
  private async list<T>(operation: string, path: string, viaClient: (d: Dockerode) => Promise<T>): Promise<T> {
    if (this.get) {
      try {
        return await this.get<T>(path);
      } catch (e) {
        throw e instanceof EngineHttpError ? new DockerEngineError(operation, e.status, e.message) : wrap(operation, e);
      }
    }
    const d = await this.client();
    return call(operation, () => viaClient(d));
  }

  /** The engine's API version (`1.41`), asked once. */
  async apiVersion(): Promise<string> {
    return (await this.engineVersion()).apiVersion;
  }

  /** The engine's release and API version, asked once. */
  engineVersion(): Promise<{ version: string; apiVersion: string }> {
    if (!this.versionP) {
      this.versionP = call('get engine version', async () => (await this.client()).version()).then(
        (v) => ({ version: v.Version, apiVersion: v.ApiVersion }),
        (err: unknown) => {
          this.versionP = null; // try again next time
          throw err;
        },
      );
    }
    return this.versionP;
  }

  async ping(): Promise<void> {
    await call('ping engine', async () => (await this.client()).ping());
  }

  async listContainers(): Promise<LiveContainer[]> {
    const list = await this.list('list containers', '/containers/json?all=1', (d) => d.listContainers({ all: true }));
    return list.map(toLiveContainer);
  }

  async listNetworks(): Promise<LiveNetwork[]> {
    const list = await this.list('list networks', '/networks', (d) => d.listNetworks());
    return list.map(toLiveNetwork);
  }

  async listVolumes(): Promise<LiveVolume[]> {
    const res = await this.list('list volumes', '/volumes', (d) => d.listVolumes());
    return (res.Volumes ?? []).map((v) => ({ name: v.Name, driver: v.Driver, labels: { ...(v.Labels ?? {}) } }));
  }

  async listImageTags(): Promise<string[]> {
    const tags = new Set<string>();
    for (const img of await this.listImages()) for (const t of img.repoTags) tags.add(t);
    return [...tags].sort();
  }

  async listImages(): Promise<LiveImage[]> {
    const images = await this.list('list images', '/images/json', (d) => d.listImages());
    return images.map((img) => ({
      id: img.Id,
      repoTags: (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      repoDigests: (img.RepoDigests ?? []).filter((d) => !d.startsWith('<none>@')),
    }));
  }

  async createNetwork(spec: NetworkSpec, labels: Record<string, string>): Promise<string> {
    const body: Record<string, unknown> = {
      Name: spec.name,
      CheckDuplicate: true,
      Driver: spec.driver,
      Internal: spec.internal,
      Attachable: spec.attachable,
      EnableIPv6: spec.enableIpv6,
      Options: spec.driverOpts,
      Labels: { ...spec.labels, ...labels },
    };
    if (spec.ipam) {
      body.IPAM = {
        Driver: spec.ipam.driver,
        Options: spec.ipam.options,
        Config: spec.ipam.config.map((c) => {
          const o: Record<string, unknown> = {};
          if (c.subnet) o.Subnet = c.subnet;
          if (c.ipRange) o.IPRange = c.ipRange;
          if (c.gateway) o.Gateway = c.gateway;
          if (c.auxAddresses) o.AuxiliaryAddresses = c.auxAddresses;
          return o;
        }),
      };
    }
    const net = await call(`create network ${spec.name}`, async () => (await this.client()).createNetwork(bodyOnly(body) as unknown as Dockerode.NetworkCreateOptions));
    return net.id;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    try {
      await (await this.client()).getNetwork(idOrName).remove();
    } catch (err) {
      const e = wrap(`remove network ${idOrName}`, err);
      if (e.statusCode === 404) return;
      throw e;
    }
  }

  async createVolume(spec: VolumeSpec, labels: Record<string, string>): Promise<void> {
    const body = { Name: spec.name, Driver: spec.driver, DriverOpts: spec.driverOpts, Labels: { ...spec.labels, ...labels } };
    await call(`create volume ${spec.name}`, async () => (await this.client()).createVolume(bodyOnly(body) as unknown as Dockerode.VolumeCreateOptions));
  }

  async removeImage(ref: string): Promise<boolean> {
    try {
      await (await this.client()).getImage(ref).remove({ force: false, noprune: false });
      return true;
    } catch (err) {
      const { status } = engineMessage(err);
      // 404: already gone; 409: a container uses it (or another tag shares a child): both mean "leave it".
      if (status === 404 || status === 409) return false;
      throw wrap(`remove image ${ref}`, err);
    }
  }

  async buildImage(req: BuildRequest, onProgress?: (line: string) => void): Promise<{ imageId: string }> {
    const op = `build image ${req.tags[0] ?? ''}`;
    const client = await this.client();
    const query: Record<string, unknown> = {
      dockerfile: req.dockerfile,
      t: req.tags,
      // Intermediate containers of a failed step go too: a failed build leaves nothing behind.
      rm: true,
      forcerm: true,
      ...(Object.keys(req.args).length > 0 ? { buildargs: req.args } : {}),
      ...(req.target ? { target: req.target } : {}),
      ...(Object.keys(req.labels).length > 0 ? { labels: req.labels } : {}),
      ...(req.network ? { networkmode: req.network } : {}),
      ...(req.extraHosts.length > 0 ? { extrahosts: req.extraHosts } : {}),
      ...(req.shmSizeBytes !== null ? { shmsize: req.shmSizeBytes } : {}),
      ...(req.noCache ? { nocache: true } : {}),
      ...(req.pull ? { pull: true } : {}),
      ...(req.cacheFrom.length > 0 ? { cachefrom: req.cacheFrom } : {}),
      ...(req.platform ? { platform: req.platform } : {}),
    };
    const stream = await call(op, () => client.buildImage(req.context as never, query as never) as unknown as Promise<Readable>);
    const output = new BuildOutput();
    await new Promise<void>((resolve, reject) => {
      client.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(wrap(op, err)) : resolve()),
        (ev: { stream?: string; aux?: { ID?: string }; error?: string; errorDetail?: { message?: string } }) => {
          for (const line of output.push(ev)) onProgress?.(line);
        },
      );
    });
    const result = output.result();
    if ('error' in result) throw new BuildError(result.step, result.tail, result.error);
    return { imageId: result.imageId };
  }

  async tagImage(source: string, ref: string): Promise<void> {
    const colon = ref.lastIndexOf(':');
    const [repo, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
    await call(`tag image ${source} as ${ref}`, async () => (await this.client()).getImage(source).tag({ repo, tag }));
  }

  async pullImage(ref: string, onProgress?: (p: PullProgress) => void, auth?: RegistryAuth | null, limits?: PullLimits): Promise<void> {
    const op = `pull image ${ref}`;
    const watchdog = new PullWatchdog(limits);
    try {
      await new Promise<void>((resolve, reject) => {
        // Aborting drops the request to the engine; the stream may then just close (followProgress
        // would call that success), so the expiry rejects by itself and the finish callback stands aside.
        watchdog.whenExpired((why) => reject(new DockerEngineError(op, null, why)));
        void (async () => {
          const client = await this.client();
          // dockerode sends `authconfig` as the X-Registry-Auth header (base64 JSON), never in the URL.
          const stream = (await call(op, () => client.pull(ref, { ...(auth ? { authconfig: auth } : {}), abortSignal: watchdog.signal }))) as Readable;
          let failure: string | null = null;
          client.modem.followProgress(
            stream,
            (err: Error | null) => {
              if (watchdog.expired !== null) return;
              if (err) reject(wrap(op, err));
              else if (failure !== null) reject(new DockerEngineError(op, null, failure));
              else resolve();
            },
            (ev: { id?: string; status?: string; progress?: string; error?: string; errorDetail?: { message?: string } }) => {
              watchdog.progress();
              if (ev.error || ev.errorDetail) {
                failure = ev.errorDetail?.message ?? ev.error ?? 'pull failed';
                return;
              }
              if (onProgress) onProgress({ id: ev.id ?? null, status: ev.status ?? '', progress: ev.progress ?? null });
            },
          );
        })().catch((e: unknown) => {
          if (watchdog.expired === null) reject(e);
        });
      });
    } finally {
      watchdog.done();
    }
  }

  async createContainer(spec: ServiceSpec, name: string, labels: Record<string, string>, opts: CreateContainerOptions = {}): Promise<string> {
    const api = await this.apiVersion();
    const aliases = opts.aliases ?? true;
    const body = containerCreateBody(spec, name, labels, api, aliases);
    const client = await this.client();
    const created = await call(`create container ${name}`, () =>
      // _query/_body: the name goes in the query string, the spec only in the
      // body (dockerode would otherwise also serialize the whole body, env
      // values included, into the URL).
      client.createContainer({ _query: spec.platform !== undefined ? { name, platform: spec.platform } : { name }, _body: body } as unknown as Dockerode.ContainerCreateOptions),
    );
    const id = created.id;
    if (spec.networkMode === null && !apiAtLeast(api, MULTI_NETWORK_CREATE_API)) {
      for (const net of networksInOrder(spec).slice(1)) {
        try {
          await this.connect(net.name, id, endpointSettings(spec.name, net, aliases, endpointLinks(spec)), `create container ${name}: connect network ${net.name}`);
        } catch (err) {
          // Never leave a container behind that lacks a network of its spec.
          await this.removeContainer(id, true).catch(() => undefined);
          throw err;
        }
      }
    }
    return id;
  }

  async startContainer(id: string): Promise<void> {
    try {
      await (await this.client()).getContainer(id).start();
    } catch (err) {
      const e = wrap(`start container ${id}`, err);
      if (e.statusCode === 304) return; // already started
      throw e;
    }
  }

  async stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    try {
      // Without `t` the engine uses the container's StopTimeout (the spec's stop_grace_period).
      await (await this.client()).getContainer(id).stop(timeoutSeconds === undefined ? {} : { t: timeoutSeconds });
    } catch (err) {
      const e = wrap(`stop container ${id}`, err);
      if (e.statusCode === 304 || e.statusCode === 404) return; // already stopped / already gone
      throw e;
    }
  }

  async removeContainer(id: string, force = false): Promise<void> {
    try {
      // Never `v: true`: volumes outlive containers (PRODUCT.md §2).
      await (await this.client()).getContainer(id).remove({ force, v: false });
    } catch (err) {
      const e = wrap(`remove container ${id}`, err);
      if (e.statusCode === 404) return;
      if (e.statusCode === 409 && /already in progress/i.test(e.engineMessage)) return;
      throw e;
    }
  }

  async renameContainer(id: string, newName: string): Promise<void> {
    await call(`rename container ${id} to ${newName}`, async () => (await this.client()).getContainer(id).rename({ name: newName }));
  }

  /**
   * Attach with exactly `opts.aliases` (callers include the service name, as
   * createContainer does). Already attached is an error: the existing
   * endpoint's aliases may differ from the ones asked for.
   */
  async connectNetwork(network: string, containerId: string, opts: Pick<ServiceNetwork, 'aliases' | 'ipv4Address' | 'ipv6Address' | 'interfaceName'>): Promise<void> {
    const ep = endpointSettings('', opts);
    ep.Aliases = [...new Set(opts.aliases)];
    await this.connect(network, containerId, ep, `connect container ${containerId} to network ${network}`);
  }

  private async connect(network: string, containerId: string, endpoint: object, operation: string): Promise<void> {
    await call(operation, async () => (await this.client()).getNetwork(network).connect({ Container: containerId, EndpointConfig: endpoint }));
  }

  /** Not attached (or either side gone) is not an error: the end state holds. */
  async disconnectNetwork(network: string, containerId: string): Promise<void> {
    try {
      await (await this.client()).getNetwork(network).disconnect({ Container: containerId, Force: false });
    } catch (err) {
      const e = wrap(`disconnect container ${containerId} from network ${network}`, err);
      if (e.statusCode === 404) return;
      // 20.10 answers 500 (newer engines 403) with "container … is not connected to network …".
      if (/is not connected to/i.test(e.engineMessage)) return;
      throw e;
    }
  }

  async inspectContainer(id: string): Promise<ContainerDetails> {
    const c = await call(`inspect container ${id}`, async () => (await this.client()).getContainer(id).inspect());
    const log = c.State.Health?.Log ?? [];
    const last = log.length > 0 ? log[log.length - 1] : undefined;
    const test = c.Config.Healthcheck?.Test ?? [];
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      running: c.State.Running,
      status: c.State.Status,
      exitCode: c.State.ExitCode,
      health: healthFromInspect(c.State.Health?.Status),
      lastHealthOutput: last ? last.Output.trim().slice(0, HEALTH_OUTPUT_LIMIT) : null,
      hasHealthcheck: test.length > 0 && test[0] !== 'NONE',
      restartCount: c.RestartCount,
      labels: { ...(c.Config.Labels ?? {}) },
      networks: Object.keys(c.NetworkSettings.Networks ?? {}).sort(),
      addresses: Object.fromEntries(
        Object.entries(c.NetworkSettings.Networks ?? {})
          .filter(([, n]) => Boolean(n.IPAddress))
          .map(([name, n]) => [name, n.IPAddress]),
      ),
    };
  }

  async exec(id: string, cmd: string[], timeoutMs: number, opts: ExecOptions = {}): Promise<{ exitCode: number; output: string }> {
    const what = `exec in container ${id}: ${JSON.stringify(cmd)}`;
    const container = (await this.client()).getContainer(id);
    const settings = {
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      ...(opts.user !== undefined ? { User: opts.user } : {}),
      ...(opts.privileged ? { Privileged: true } : {}),
      ...(opts.workingDir !== undefined ? { WorkingDir: opts.workingDir } : {}),
      ...(opts.env ? { Env: opts.env } : {}),
    };
    const exec = await call(what, () => container.exec(settings));
    const started = Date.now();
    const stream = (await call(what, () => exec.start({ hijack: true, stdin: false }))) as NodeJS.ReadWriteStream & { destroy(): void };
    const out = new TailBuffer(EXEC_OUTPUT_LIMIT);
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => out.push(chunk));
    (await this.client()).modem.demuxStream(stream, sink, sink);

    let timer: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', (err: Error) => reject(wrap(what, err)));
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stream.destroy();
        reject(
          new DockerEngineError(
            what,
            null,
            `timed out after ${timeoutMs} ms (the Engine API cannot stop an exec: the command may still be running in the container)${out.length > 0 ? `; output so far: ${out.text()}` : ''}`,
          ),
        );
      }, Math.max(0, timeoutMs));
    });
    try {
      await Promise.race([finished, timeout]);
      // The stream ends when the process does; the exit code can lag by a moment.
      for (;;) {
        const info = await call(what, () => exec.inspect());
        if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return { exitCode: info.ExitCode, output: out.text() };
        if (Date.now() - started > timeoutMs) await timeout;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      clearTimeout(timer);
      timeout.catch(() => undefined);
    }
  }

  /**
   * Engine events on berth's objects, from two streams:
   * - containers, filtered by the engine on `io.berth.managed=true` (a
   *   container event carries the container's labels);
   * - networks and volumes, whose events carry no labels (nor does a network
   *   connect/disconnect carry the container's), so they are filtered here:
   *   an event passes when its network or volume is managed, or when it
   *   connects/disconnects a managed container. What is managed is learnt by
   *   one inspect per object, cached; an object that is already gone when
   *   asked about passes (it may have been berth's).
   * Health-probe exec events (`exec_create`, `exec_start`, `exec_die`) are
   * dropped: they change nothing and arrive every probe interval.
   * Either stream ending or failing calls `onError` once; after that, or
   * after unsubscribing, nothing more is delivered.
   */
  events(onEvent: (e: DockerEvent) => void, onError: (err: Error) => void): () => void {
    let closed = false;
    const streams: Readable[] = [];
    const fail = (err: Error) => {
      if (closed) return;
      closed = true;
      for (const s of streams) s.destroy();
      onError(err);
    };
    const managedNetworks = new Map<string, Record<string, string> | null>(); // id → labels when managed, null when not
    const managedVolumes = new Map<string, Record<string, string> | null>();
    const managedContainers = new Map<string, boolean>();
    let queue: Promise<void> = Promise.resolve();

    const lookup = async <T>(cache: Map<string, T>, key: string, fetch: () => Promise<T>, gone: T): Promise<T> => {
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      try {
        const v = await fetch();
        // Unmanaged containers never send us their destroy: bound the caches on a busy host.
        if (cache.size >= EVENT_CACHE_LIMIT) cache.clear();
        cache.set(key, v);
        return v;
      } catch (err) {
        if (wrap('inspect', err).statusCode === 404) return gone;
        throw err;
      }
    };
    const labelsIfManaged = (labels: Record<string, string> | null | undefined) => (labels?.[LABEL.managed] === 'true' ? { ...labels } : null);

    const handle = async (raw: RawEvent): Promise<void> => {
      const type = raw.Type;
      const action = raw.Action ?? raw.status ?? '';
      const id = raw.Actor?.ID ?? raw.id ?? '';
      const attrs = raw.Actor?.Attributes ?? {};
      const time = raw.timeNano ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000;
      if (type === 'container') {
        if (action.startsWith('exec_')) return;
        const labels: Record<string, string> = {};
        for (const [k, v] of Object.entries(attrs)) if (!CONTAINER_EVENT_ATTRS.has(k)) labels[k] = v;
        managedContainers.set(id, true);
        onEvent({ type: 'container', action, id, name: attrs.name ?? '', labels, time });
        if (action === 'destroy') managedContainers.delete(id);
        return;
      }
      if (type === 'network') {
        const netLabels = await lookup(managedNetworks, id, async () => labelsIfManaged((await (await this.client()).getNetwork(id).inspect()).Labels), {} as Record<string, string>);
        let pass = netLabels !== null;
        const container = attrs.container;
        if (!pass && container && (action === 'connect' || action === 'disconnect')) {
          pass = await lookup(managedContainers, container, async () => labelsIfManaged((await (await this.client()).getContainer(container).inspect()).Config.Labels) !== null, true);
        }
        if (pass) onEvent({ type: 'network', action, id, name: attrs.name ?? '', labels: netLabels ?? {}, time });
        if (action === 'destroy') managedNetworks.delete(id);
        return;
      }
      if (type === 'volume') {
        const volLabels = await lookup(managedVolumes, id, async () => labelsIfManaged((await (await this.client()).getVolume(id).inspect()).Labels), {} as Record<string, string>);
        if (volLabels !== null) onEvent({ type: 'volume', action, id, name: id, labels: volLabels, time });
        if (action === 'destroy') managedVolumes.delete(id);
      }
    };

    const subscribe = (filters: Record<string, string[]>, what: string) => {
      this.client().then((d) => d.getEvents({ filters })).then(
        (s) => {
          const stream = s as Readable;
          if (closed) {
            stream.destroy();
            return;
          }
          streams.push(stream);
          readEventLines(
            stream,
            `docker events (${what})`,
            (ev) => {
              queue = queue.then(() => (closed ? undefined : handle(ev as RawEvent))).catch((err: unknown) => fail(wrap(`docker events (${what})`, err)));
            },
            fail,
            (err) => wrap(`docker events (${what})`, err),
          );
        },
        (err: unknown) => fail(wrap(`docker events (${what})`, err)),
      );
    };
    subscribe({ type: ['container'], label: [MANAGED_FILTER] }, 'containers');
    subscribe({ type: ['network', 'volume'] }, 'networks and volumes');

    return () => {
      closed = true;
      for (const s of streams) s.destroy();
    };
  }
}

/** dockerode serializes `opts` into both query and body unless given `_query`/`_body`. */
function bodyOnly(body: object): { _query: Record<string, never>; _body: object } {
  return { _query: {}, _body: body };
}

/** Keeps the last `limit` characters of a byte stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;
  constructor(private readonly limit: number) {}
  get length(): number {
    return this.size;
  }
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    if (this.size > this.limit * 2) {
      const all = Buffer.concat(this.chunks);
      this.chunks = [all.subarray(all.length - this.limit)];
      this.size = this.limit;
      this.dropped = true;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    const tail = all.length > this.limit ? all.subarray(all.length - this.limit) : all;
    return (this.dropped || all.length > this.limit ? '…' : '') + tail.toString('utf8');
  }
}
