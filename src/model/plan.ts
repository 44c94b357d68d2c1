import type { NetworkSpec, RolloutStrategy, ServiceNetwork, ServiceSpec, Tier, VolumeSpec } from './desired.js';

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

export interface ServiceCreateOp extends OpBase {
  kind: 'service.create';
  service: ServiceSpec;
  /** The image is not present locally (or pull_policy: always). */
  pull: boolean;
}

export interface ServiceRecreateOp extends OpBase {
  kind: 'service.recreate';
  service: ServiceSpec;
  pull: boolean;
  /** The container being replaced. */
  old: { id: string; name: string };
  /** Effective strategy (start-first falls back to recreate when host ports are published). */
  strategy: RolloutStrategy;
}

export interface ServiceStartOp extends OpBase {
  kind: 'service.start';
  service: ServiceSpec;
  containerId: string;
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
