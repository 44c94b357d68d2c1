import type { ServiceSpec } from '../../src/model/desired.js';
import type { Health } from '../../src/model/live.js';
import type { Clock } from '../../src/ports/clock.js';
import type { ContainerDetails, DockerPort } from '../../src/ports/docker.js';

/**
 * An in-memory Docker engine for rollout unit tests: containers with names,
 * networks and a health decided by the test (`health(name, image)` at each
 * inspect). Enough of the DockerPort for rollouts; list calls return nothing.
 */
export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  running: boolean;
  networks: string[];
  labels: Record<string, string>;
  inspects: number;
}

export interface FakeEngine {
  docker: DockerPort;
  clock: Clock & { slept: number[] };
  containers: Map<string, FakeContainer>;
  /** Add a running container (the "old" replicas). */
  add(name: string, image: string, networks?: string[]): FakeContainer;
  byName(name: string): FakeContainer | undefined;
}

export function fakeEngine(health: (c: FakeContainer) => Health = () => 'healthy'): FakeEngine {
  const containers = new Map<string, FakeContainer>();
  let seq = 0;
  let now = 0;
  const byName = (name: string) => [...containers.values()].find((c) => c.name === name);
  const find = (idOrName: string) => containers.get(idOrName) ?? byName(idOrName);
  const get = (idOrName: string) => {
    const c = find(idOrName);
    if (!c) throw new Error(`no such container: ${idOrName}`);
    return c;
  };
  const add = (name: string, image: string, networks: string[] = ['shop_default']): FakeContainer => {
    if (byName(name)) throw new Error(`Conflict. The container name "/${name}" is already in use`);
    const c: FakeContainer = { id: `c${++seq}`, name, image, running: false, networks: [...networks], labels: {}, inspects: 0 };
    containers.set(c.id, c);
    return c;
  };
  const unsupported = async (): Promise<never> => {
    throw new Error('not in the fake engine');
  };
  const docker: DockerPort = {
    ping: async () => undefined,
    engineVersion: async () => ({ version: '20.10.24', apiVersion: '1.41' }),
    listContainers: async () => [],
    listNetworks: async () => [],
    listVolumes: async () => [],
    listImageTags: async () => [],
    listImages: async () => [],
    buildImage: unsupported,
    tagImage: unsupported,
    createNetwork: unsupported,
    removeNetwork: unsupported,
    createVolume: unsupported,
    pullImage: async () => undefined,
    removeImage: async () => false,
    createContainer: async (spec: ServiceSpec, name: string, labels: Record<string, string>) => {
      const c = add(name, spec.image, spec.networks.map((n) => n.name));
      c.labels = labels;
      return c.id;
    },
    startContainer: async (id) => void (get(id).running = true),
    stopContainer: async (id) => void (get(id).running = false),
    removeContainer: async (id) => {
      const c = find(id);
      if (c) containers.delete(c.id);
    },
    renameContainer: async (id, newName) => {
      const other = byName(newName);
      if (other && other.id !== get(id).id) throw new Error(`Conflict. The container name "/${newName}" is already in use`);
      get(id).name = newName;
    },
    connectNetwork: async (network, id) => {
      const c = get(id);
      if (!c.networks.includes(network)) c.networks.push(network);
    },
    disconnectNetwork: async (network, id) => {
      const c = get(id);
      c.networks = c.networks.filter((n) => n !== network);
    },
    inspectContainer: async (id): Promise<ContainerDetails> => {
      const c = get(id);
      c.inspects++;
      return {
        id: c.id,
        name: c.name,
        running: c.running,
        status: c.running ? 'running' : 'exited',
        exitCode: 0,
        health: c.running ? health(c) : null,
        lastHealthOutput: null,
        hasHealthcheck: true,
        restartCount: 0,
        labels: c.labels,
        networks: [...c.networks],
        addresses: {},
      };
    },
    exec: async () => ({ exitCode: 0, output: '' }),
    events: () => () => undefined,
  };
  const slept: number[] = [];
  const clock = {
    slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
  return { docker, clock, containers, add: (n, i, nets) => Object.assign(add(n, i, nets), { running: true }), byName };
}
