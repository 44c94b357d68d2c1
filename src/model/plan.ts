import type { NetworkSpec, RolloutStrategy, ServiceNetwork, ServiceSpec, Tier, UpdateConfig, VolumeSpec } from './desired.js';

/**
 * The plan: every decision berth makes, as plain data. Controllers produce
 * ops, the planner orders them into waves, `berth plan` prints them, apply
 * executes them one Docker call (or one gate) at a time.
 */
export type Wave = 'networks' | 'volumes' | 'databases' | 'apps';
export const WAVES: readonly Wave[] = ['networks', 'volumes', 'databases', 'apps'];

/** What the plan line's sign says: `+` create, `~` recreate/update/start, `-` remove. */
export type Action = 'create' | 'recreate' | 'update' | 'start' | 'remove';

export interface OpBase {
  /** Stable id, unique in a plan: `network:<name>`, `volume:<name>`, `service:<stack>/<service>`, `container:<name>`. */
  id: string;
  wave: Wave;
  action: Action;
  stack: string;
  /** What a person calls the object: the Docker name for networks/volumes, `<stack>/<service>` for services. */
  object: string;
  /** Why: one short phrase per difference, never a secret value. Never empty. */
  reasons: string[];
  /** Ids of ops (in this plan) that must have succeeded before this one starts. */
  after: string[];
}

export interface NetworkCreateOp extends OpBase {
  kind: 'network.create';
  network: NetworkSpec;
}

/** Remove and create again: immutable settings changed. Managed containers on it are reconnected by apply. */
export interface NetworkRecreateOp extends OpBase {
  kind: 'network.recreate';
  network: NetworkSpec;
  liveId: string;
  /** Names of managed containers attached now (apply disconnects and reconnects them). */
  attached: string[];
}

export interface NetworkRemoveOp extends OpBase {
  kind: 'network.remove';
  name: string;
  liveId: string;
}

export interface VolumeCreateOp extends OpBase {
  kind: 'volume.create';
  volume: VolumeSpec;
}

/**
 * The image a create/recreate runs, decided by the planner (controllers/image.ts):
 * what to pull first (the tag, or `repo@digest` for a pin), and what the
 * container is created from (the tag, or a pinned image ID).
 */
export interface ImagePlan {
  /** Pulled in the prepare phase, before anything on the host changes; null = already on the host. */
  pullRef: string | null;
  /** The image the container is created from. */
  run: string;
  /** The manifest digest it runs, when known at plan time (the `io.berth.image-digest` label). */
  digest: string | null;
  /** The revision that first ran this definition, when the image is pinned to what ran then. */
  pinnedAt: string | null;
}

export interface ServiceCreateOp extends OpBase {
  kind: 'service.create';
  service: ServiceSpec;
  /** The image is not present locally (or its tag moved): `image.pullRef` is pulled first. */
  pull: boolean;
  image?: ImagePlan;
  /** The service's content-tagged image is built first (src/build); then `pull` is false. */
  build?: boolean;
}

export interface ServiceRecreateOp extends OpBase {
  kind: 'service.recreate';
  service: ServiceSpec;
  pull: boolean;
  image?: ImagePlan;
  /** As for create: build the content-tagged image first. */
  build?: boolean;
  /** The container being replaced. */
  old: { id: string; name: string };
  /** Effective strategy (start-first falls back to recreate when host ports are published). */
  strategy: RolloutStrategy;
}

/** One replica of a rolling update: the live container it replaces and why. */
export interface ReplicaStep {
  /** 1-based replica number (`com.docker.compose.container-number`). */
  replica: number;
  containerName: string;
  old: { id: string; name: string };
  reasons: string[];
}

/**
 * Replace the changed replicas of a scaled service batch by batch, as
 * `deploy.update_config` says; a failure rolls back the replicas already
 * replaced (failure_action: rollback), so the service ends on one revision.
 */
export interface ServiceRollingOp extends OpBase {
  kind: 'service.rolling';
  /** Replica 1's spec; the others differ only in container name. */
  service: ServiceSpec;
  pull: boolean;
  /** Set when the planner pinned the image (see ServiceRecreateOp.image). */
  image?: ImagePlan;
  /** Strategy of each replica's replacement. */
  strategy: RolloutStrategy;
  update: UpdateConfig;
  /** In replica order. */
  steps: ReplicaStep[];
}

export interface ServiceStartOp extends OpBase {
  kind: 'service.start';
  service: ServiceSpec;
  containerId: string;
  /** Stop it first (a running container restarted because a `depends_on … restart: true` dependency was replaced). */
  restart?: boolean;
}

/** Join missing networks / leave extra ones without recreating (drift repair). */
export interface ServiceConnectOp extends OpBase {
  kind: 'service.connect';
  service: ServiceSpec;
  containerId: string;
  connect: ServiceNetwork[];
  /** Network names to leave. */
  disconnect: string[];
}

export interface ServiceRemoveOp extends OpBase {
  kind: 'service.remove';
  service: string;
  tier: Tier;
  containerId: string;
  containerName: string;
}

/** Leftovers of an interrupted rollout (`*_berth_tmp`, `*_berth_old` whose service is healthy again). */
export interface ContainerCleanupOp extends OpBase {
  kind: 'container.cleanup';
  containerId: string;
  containerName: string;
}

export type Op =
  | NetworkCreateOp
  | NetworkRecreateOp
  | NetworkRemoveOp
  | VolumeCreateOp
  | ServiceCreateOp
  | ServiceRecreateOp
  | ServiceRollingOp
  | ServiceStartOp
  | ServiceConnectOp
  | ServiceRemoveOp
  | ContainerCleanupOp;

/** A reason the plan cannot be applied at all. Apply refuses a plan with errors; nothing is touched. */
export interface PlanError {
  code: string;
  stack: string;
  object: string;
  message: string;
  /** Where in the stack's Compose file, when the error is about one key (otherwise derived from `object`). */
  path?: (string | number)[];
}

export interface PlanSummary {
  create: number;
  recreate: number;
  /** update + start */
  update: number;
  remove: number;
}

export interface Plan {
  /** Git revision of the desired state, when known. */
  revision: string | null;
  ops: Op[];
  errors: PlanError[];
  /** Things a person should know that do not stop the plan. */
  warnings: string[];
  summary: PlanSummary;
}
