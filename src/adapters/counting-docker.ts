import type { NetworkSpec, ServiceNetwork, ServiceSpec, VolumeSpec } from '../model/desired.js';
import type { LiveContainer, LiveImage, LiveNetwork, LiveVolume } from '../model/live.js';
import type { BuildRequest, ContainerDetails, CreateContainerOptions, DockerEvent, DockerPort, PullLimits, PullProgress } from '../ports/docker.js';
import type { RegistryAuth } from '../ports/registry.js';

export type DockerMethod = keyof DockerPort;

/**
 * A DockerPort that counts the calls it passes to another one, per method.
 * Tests use it to hold berth to its budget: "a no-op pass makes 4 list calls
 * and no inspects". A call counts when it is made, whether or not it succeeds.
 */
export class CountingDocker implements DockerPort {
  private readonly counts = new Map<DockerMethod, number>();

  constructor(readonly inner: DockerPort) {}

  /** Calls of one method, or of all methods. */
  count(method?: DockerMethod): number {
    if (method) return this.counts.get(method) ?? 0;
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** Every method called at least once, with its count, sorted by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  reset(): void {
    this.counts.clear();
  }

  private hit(m: DockerMethod): void {
    this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
  }

  ping(): Promise<void> {
    this.hit('ping');
    return this.inner.ping();
  }
  engineVersion(): Promise<{ version: string; apiVersion: string }> {
    this.hit('engineVersion');
    return this.inner.engineVersion();
  }
  listContainers(): Promise<LiveContainer[]> {
    this.hit('listContainers');
    return this.inner.listContainers();
  }
  listNetworks(): Promise<LiveNetwork[]> {
    this.hit('listNetworks');
    return this.inner.listNetworks();
  }
  listVolumes(): Promise<LiveVolume[]> {
    this.hit('listVolumes');
    return this.inner.listVolumes();
  }
  buildImage(request: BuildRequest, onProgress?: (line: string) => void): Promise<{ imageId: string }> {
    this.hit('buildImage');
    return this.inner.buildImage(request, onProgress);
  }
  tagImage(source: string, ref: string): Promise<void> {
    this.hit('tagImage');
    return this.inner.tagImage(source, ref);
  }
  listImageTags(): Promise<string[]> {
    this.hit('listImageTags');
    return this.inner.listImageTags();
  }
  listImages(): Promise<LiveImage[]> {
    this.hit('listImages');
    return this.inner.listImages();
  }
  createNetwork(spec: NetworkSpec, labels: Record<string, string>): Promise<string> {
    this.hit('createNetwork');
    return this.inner.createNetwork(spec, labels);
  }
  removeNetwork(idOrName: string): Promise<void> {
    this.hit('removeNetwork');
    return this.inner.removeNetwork(idOrName);
  }
  createVolume(spec: VolumeSpec, labels: Record<string, string>): Promise<void> {
    this.hit('createVolume');
    return this.inner.createVolume(spec, labels);
  }
  pullImage(ref: string, onProgress?: (p: PullProgress) => void, auth?: RegistryAuth | null, limits?: PullLimits): Promise<void> {
    this.hit('pullImage');
    return this.inner.pullImage(ref, onProgress, auth, limits);
  }
  removeImage(ref: string): Promise<boolean> {
    this.hit('removeImage');
    return this.inner.removeImage(ref);
  }
  createContainer(spec: ServiceSpec, name: string, labels: Record<string, string>, opts?: CreateContainerOptions): Promise<string> {
    this.hit('createContainer');
    return this.inner.createContainer(spec, name, labels, opts);
  }
  startContainer(id: string): Promise<void> {
    this.hit('startContainer');
    return this.inner.startContainer(id);
  }
  stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    this.hit('stopContainer');
    return this.inner.stopContainer(id, timeoutSeconds);
  }
  removeContainer(id: string, force?: boolean): Promise<void> {
    this.hit('removeContainer');
    return this.inner.removeContainer(id, force);
  }
  renameContainer(id: string, newName: string): Promise<void> {
    this.hit('renameContainer');
    return this.inner.renameContainer(id, newName);
  }
  connectNetwork(network: string, containerId: string, opts: Pick<ServiceNetwork, 'aliases' | 'ipv4Address' | 'ipv6Address'>): Promise<void> {
    this.hit('connectNetwork');
    return this.inner.connectNetwork(network, containerId, opts);
  }
  disconnectNetwork(network: string, containerId: string): Promise<void> {
    this.hit('disconnectNetwork');
    return this.inner.disconnectNetwork(network, containerId);
  }
  inspectContainer(id: string): Promise<ContainerDetails> {
    this.hit('inspectContainer');
    return this.inner.inspectContainer(id);
  }
  exec(id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    this.hit('exec');
    return this.inner.exec(id, cmd, timeoutMs);
  }
  events(onEvent: (e: DockerEvent) => void, onError: (err: Error) => void): () => void {
    this.hit('events');
    return this.inner.events(onEvent, onError);
  }
}
