/**
 * berth's window on a Docker Swarm manager. One method is one Engine API
 * call. Specs go in and come out as the Engine's own JSON (`ServiceSpec`,
 * `NetworkCreate`): the pure code in src/swarm/ builds and reads them, so a
 * fake port in tests holds exactly what a manager would.
 */
export interface SwarmPort {
  /** This engine's swarm role: null when it is in no swarm, else whether it is a manager (only a manager takes service calls). */
  swarmRole(): Promise<{ nodeId: string; manager: boolean } | null>;
  nodes(): Promise<SwarmNode[]>;
  /** Services carrying io.berth.managed=true. */
  listServices(): Promise<LiveSwarmService[]>;
  /** Every swarm-scoped network (berth's and others': a name taken by an unmanaged one is an error). */
  listNetworks(): Promise<LiveSwarmNetwork[]>;
  /** One service by id, fresh (its version for the next update); null when gone. */
  inspectService(id: string): Promise<LiveSwarmService | null>;
  /** Tasks of one service (all states Swarm still keeps). */
  listTasks(serviceId: string): Promise<LiveSwarmTask[]>;

  /** `POST /networks/create` with this body; resolves with the id. */
  createNetwork(body: Record<string, unknown>): Promise<string>;
  removeNetwork(id: string): Promise<void>;
  /** `POST /services/create`; resolves with the id. */
  createService(spec: Record<string, unknown>): Promise<string>;
  /**
   * `POST /services/{id}/update?version=…` with `spec`; `rollback: true` asks
   * Swarm to go back to the service's previous spec instead (`rollback=previous`,
   * the spec is then the current one, as the docker CLI sends it).
   */
  updateService(id: string, version: number, spec: Record<string, unknown>, opts?: { rollback?: boolean }): Promise<void>;
  removeService(id: string): Promise<void>;

  /** Swarm configs and secrets carrying io.berth.managed=true (two list calls). */
  listSwarmFiles(): Promise<LiveSwarmFile[]>;
  /** `POST /configs/create` or `/secrets/create`; the data goes base64 in the body and nowhere else. Resolves with the id. */
  createSwarmFile(kind: SwarmFileKind, name: string, labels: Record<string, string>, data: Buffer): Promise<string>;
  removeSwarmFile(kind: SwarmFileKind, id: string): Promise<void>;

  /**
   * The manager's service and node events (`type=service|node`: a service
   * created, updated or removed — by berth or by hand —, a node going down or
   * back); `onError` once when the stream ends. Returns the unsubscribe.
   */
  events(onEvent: (e: SwarmEvent) => void, onError: (err: Error) => void): () => void;
}

export interface SwarmEvent {
  type: 'service' | 'node';
  action: string;
  /** The service's name, or the node's hostname. */
  name: string;
}

export type SwarmFileKind = 'config' | 'secret';

export interface LiveSwarmFile {
  kind: SwarmFileKind;
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface SwarmNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  /** `ready`, `down`, `unknown`, `disconnected`. */
  state: string;
  availability: string;
}

export interface LiveSwarmService {
  id: string;
  name: string;
  /** Spec version: an update must name it (optimistic concurrency). */
  version: number;
  labels: Record<string, string>;
  /** The Engine's `Spec`, as JSON. */
  spec: unknown;
  /** `PreviousSpec`: what a rollback returns to; null when never updated. */
  previousSpec: unknown;
  /** `UpdateStatus.State` (`updating`, `paused`, `completed`, `rollback_started`, `rollback_paused`, `rollback_completed`) and its message. */
  updateStatus: { state: string; message: string } | null;
  /** `Endpoint.VirtualIPs[].Addr` without the /prefix (none with `endpoint_mode: dnsrr`): where Traefik sends traffic with `lbswarm`. */
  virtualIps?: string[];
}

export interface LiveSwarmNetwork {
  id: string;
  name: string;
  driver: string;
  attachable: boolean;
  internal: boolean;
  labels: Record<string, string>;
}

export interface LiveSwarmTask {
  id: string;
  serviceId: string;
  /** Replica number (replicated services); 0 for global ones. */
  slot: number;
  nodeId: string;
  /** What Swarm wants: `running`, `shutdown`, … */
  desiredState: string;
  /** What it is: `new` … `starting`, `running`, `complete`, `failed`, `rejected`, `shutdown`, `orphaned`. */
  state: string;
  /** Why it failed, when it did. */
  error: string;
  /** The task's own spec: a copy of the service's TaskTemplate when Swarm made it (what tells a new task from an old one). */
  spec: unknown;
  image: string;
  /** The task's IPs on its networks (`NetworksAttachments[].Addresses`, without the /prefix): where Traefik's swarm provider sends traffic. */
  addresses: string[];
}
