import type { ServiceSpec } from '../model/desired.js';
import type { ContainerState, Health, LiveContainer } from '../model/live.js';
import { replicaCount, replicaNames } from '../model/replicas.js';

/**
 * How many of a service's replicas run, for drift, `berth status`,
 * `/api/status` and chat: "web 2/3 running". Pure: spec × containers by name.
 */
export interface ReplicaState {
  container: string;
  state: ContainerState | 'missing';
  health: Health;
}

export interface ServiceReplicas {
  desired: number;
  running: number;
  replicas: ReplicaState[];
}

type Spec = Pick<ServiceSpec, 'stack' | 'name' | 'containerName'> & { replicas?: number };

export function serviceReplicas(spec: Spec, containers: ReadonlyMap<string, LiveContainer>): ServiceReplicas {
  const replicas = replicaNames(spec).map((name): ReplicaState => {
    const c = containers.get(name);
    return { container: name, state: c && c.state !== 'removing' ? c.state : 'missing', health: c?.health ?? null };
  });
  return { desired: replicaCount(spec), running: replicas.filter((r) => r.state === 'running').length, replicas };
}

/** `web 2/3 running`. */
export function replicaSummary(service: string, r: Pick<ServiceReplicas, 'desired' | 'running'>): string {
  return `${service} ${r.running}/${r.desired} running`;
}
