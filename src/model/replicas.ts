import type { ServiceSpec } from './desired.js';

/**
 * Replica naming, as `docker compose` does it: replica N of service S in
 * project P is `P-S-N`, labelled `com.docker.compose.container-number=N`.
 * Pure helpers on the spec, shared by controllers, apply, drift and status.
 */
type Named = Pick<ServiceSpec, 'stack' | 'name' | 'containerName'> & { replicas?: number };

export function replicaCount(spec: { replicas?: number }): number {
  return spec.replicas ?? 1;
}

/** The container name of replica `n` (1-based). Replica 1 keeps `containerName`, which is `container_name` when set (then there is only one). */
export function replicaName(spec: Named, n: number): string {
  return n === 1 ? spec.containerName : `${spec.stack}-${spec.name}-${n}`;
}

/** Names of replicas 1..N in order. */
export function replicaNames(spec: Named): string[] {
  return Array.from({ length: replicaCount(spec) }, (_, i) => replicaName(spec, i + 1));
}

/** The replica number a container name stands for (`<stack>-<service>-N`), or null when it is not one of the service's. */
export function replicaNumberOf(spec: Pick<ServiceSpec, 'stack' | 'name' | 'containerName'>, containerName: string): number | null {
  if (containerName === spec.containerName) return 1;
  const prefix = `${spec.stack}-${spec.name}-`;
  if (!containerName.startsWith(prefix)) return null;
  const rest = containerName.slice(prefix.length);
  return /^[1-9]\d*$/.test(rest) ? Number(rest) : null;
}

/** The spec of replica `n`: the same configuration (and config hash) under the replica's container name. */
export function replicaSpec<S extends ServiceSpec>(spec: S, n: number): S {
  if (n === 1) return spec;
  const copy = { ...spec, containerName: replicaName(spec, n) };
  // A spec made secret-safe for printing (a non-enumerable toJSON that masks values) stays so.
  const toJSON = Object.getOwnPropertyDescriptor(spec, 'toJSON');
  if (toJSON) Object.defineProperty(copy, 'toJSON', toJSON);
  return copy;
}

/** `com.docker.compose.container-number` of the container a (replica) spec describes: N of `<stack>-<service>-N`, else 1 (`container_name`). */
export function containerNumber(spec: Pick<ServiceSpec, 'stack' | 'name' | 'containerName'>): number {
  const prefix = `${spec.stack}-${spec.name}-`;
  const rest = spec.containerName.startsWith(prefix) ? spec.containerName.slice(prefix.length) : '';
  return /^[1-9]\d*$/.test(rest) ? Number(rest) : 1;
}
