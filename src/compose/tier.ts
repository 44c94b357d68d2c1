import type { ServiceSpec, Tier } from '../model/desired.js';

/**
 * Images of stateful servers (PRODUCT.md §1). Matched on the repository's last
 * path component without tag or digest, so `postgres:18.1`,
 * `docker.io/library/postgres` and `bitnami/postgresql` all count, while
 * `mongo-express` or `redis-commander` (UIs for those servers) do not.
 */
const STATEFUL_IMAGES = new Set([
  'postgres',
  'postgresql',
  'postgis',
  'pgvector',
  'timescaledb',
  'timescaledb-ha',
  'mysql',
  'mariadb',
  'mongo',
  'mongodb',
  'mongodb-community-server',
  'redis',
  'redis-stack-server',
  'redis-stack',
  'valkey',
  'kafka',
  'cp-kafka',
  'neo4j',
  'clickhouse',
  'clickhouse-server',
  'elasticsearch',
  'minio',
  'rabbitmq',
  'nats',
  'etcd',
]);

export function imageBaseName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.split('/').pop() ?? noDigest;
  return last.split(':')[0]!.toLowerCase();
}

export function isStatefulImage(image: string): boolean {
  return STATEFUL_IMAGES.has(imageBaseName(image));
}

/**
 * `database` when the image is a known stateful server, or the service keeps
 * data in a named volume and another service waits for it to be healthy;
 * otherwise `app`.
 */
export function inferTier(svc: Pick<ServiceSpec, 'name' | 'image' | 'mounts'>, gatedHealthy: ReadonlySet<string>): Tier {
  if (isStatefulImage(svc.image)) return 'database';
  const hasNamedVolume = svc.mounts.some((m) => m.type === 'volume' && m.source !== null);
  return hasNamedVolume && gatedHealthy.has(svc.name) ? 'database' : 'app';
}

/** Names of the services some other service of the stack waits on with `condition: service_healthy`. */
export function healthGated(stack: Pick<ServiceSpec, 'dependsOn'>[]): Set<string> {
  return new Set(stack.flatMap((s) => s.dependsOn.filter((d) => d.condition === 'service_healthy').map((d) => d.service)));
}
