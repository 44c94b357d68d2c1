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
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The part of a service that determines its container. Like Compose's own
 * service hash it leaves out what does not change the container: the start
 * order (`depends_on`), the pull policy, and berth's rollout options; and it
 * names networks by their Docker name, not the key the file used.
 */
export function containerDefinition(spec: Omit<ServiceSpec, 'configHash'>): Record<string, unknown> {
  const { berth: _berth, dependsOn: _deps, pullPolicy: _pull, networks, ...rest } = spec;
  return {
    ...rest,
    networks: networks.map(({ key: _key, ...n }) => n),
  };
}

export function configHash(spec: Omit<ServiceSpec, 'configHash'>): string {
  return `v1:${sha256Hex(canonicalJson(containerDefinition(spec)))}`;
}
