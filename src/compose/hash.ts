import { createHash } from 'node:crypto';
import type { ServiceSpec } from '../model/desired.js';

/**
 * Canonical JSON: object keys sorted, `undefined` dropped, no whitespace. Two
 * values that mean the same produce the same bytes, whatever order the file
 * wrote them in. (Order of arrays is kept: normalization already sorted every
 * list whose order does not matter.)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return JSON.stringify(value) ?? 'null';
  }
  // Loops and one string, not filter/sort/map/join and a template per level: this runs
  // for every service on every load, cold in a short-lived CLI (5 % of `berth validate`).
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      // A hole stays empty, as Array.prototype.join writes it.
      s += (i === 0 ? '' : ',') + (v === undefined ? (i in value ? 'null' : '') : canonicalJson(v));
    }
    return s + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let s = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    s += (s.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return s + '}';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A mount of a repository file is named by the file's path in the repository,
 * not by where the checkout is: the file's content is in `files[].id`, and the
 * checkout moves — after a restart with an invalid head berth loads the last
 * good revision from a second checkout, and an absolute source here made that
 * recreate every container mounting a repository file, and the next valid
 * commit recreate it again (found by the soak). A `live` directory (not
 * snapshotted, mounted from the checkout as it is) keeps its real source.
 */
function repoRelativeMounts(spec: Omit<ServiceSpec, 'configHash'>): ServiceSpec['mounts'] {
  const repoFile = new Map((spec.files ?? []).flatMap((f) => (f.target !== undefined && f.id !== 'live' ? [[f.target, f.path] as const] : [])));
  if (repoFile.size === 0) return spec.mounts;
  return spec.mounts.map((m) => {
    const path = m.type === 'bind' ? repoFile.get(m.target) : undefined;
    return path === undefined ? m : { ...m, source: `repo:${path}` };
  });
}

/**
 * The part of a service that determines its container. Like Compose's own
 * service hash it leaves out what does not change the container: the start
 * order (`depends_on`), the pull policy, and berth's rollout options; and it
 * names networks by their Docker name, not the key the file used.
 */
export function containerDefinition(spec: Omit<ServiceSpec, 'configHash'>): Record<string, unknown> {
  // Replica count and update_config shape the rollout, not any one container.
  const { berth: _berth, dependsOn: _deps, pullPolicy: _pull, pullIntervalSeconds: _every, replicas: _replicas, updateConfig: _update, networks, ...rest } = spec;
  return {
    ...rest,
    mounts: repoRelativeMounts(spec),
    networks: networks.map(({ key: _key, ...n }) => n),
  };
}

export function configHash(spec: Omit<ServiceSpec, 'configHash'>): string {
  return `v1:${sha256Hex(canonicalJson(containerDefinition(spec)))}`;
}
