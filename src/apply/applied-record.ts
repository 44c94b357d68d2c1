import { sha256Hex } from '../compose/hash.js';
import { redactFileIds } from '../files/reasons.js';
import type { AppliedRecord, AppliedStack, RedactedServiceSpec } from '../model/applied.js';
import type { DesiredState, ServiceSpec } from '../model/desired.js';

/** How an environment value is kept in the record: comparable, not readable. */
export function hashEnvValue(salt: string, value: string): string {
  return `sha256:${sha256Hex(salt + value)}`;
}

export function redactService(spec: ServiceSpec, salt: string): RedactedServiceSpec {
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.environment)) if (v !== null) environment[k] = hashEnvValue(salt, v);
  const files = redactFileIds(spec.files, salt);
  return { ...spec, environment, ...(files ? { files } : {}) };
}

export function buildAppliedRecord(desired: DesiredState, revision: string | null, source: string, salt: string, appliedAt: Date): AppliedRecord {
  return {
    revision,
    appliedAt: appliedAt.toISOString(),
    source,
    salt,
    stacks: desired.stacks.map(
      (s): AppliedStack => ({
        name: s.name,
        networks: s.networks,
        volumes: s.volumes,
        services: s.services.map((svc) => redactService(svc, salt)),
      }),
    ),
  };
}

/**
 * After a partly failed apply the record must say what the host now runs:
 * the new spec for every service whose op succeeded (or that needed none),
 * the previous spec for the ones that failed or were skipped.
 */
export function mergeAppliedRecord(prev: AppliedRecord | null, next: AppliedRecord, notApplied: Set<string>): AppliedRecord {
  const prevService = (stack: string, name: string) =>
    prev?.stacks.find((s) => s.name === stack)?.services.find((x) => x.name === name);
  const stacks = next.stacks.map((s) => ({
    ...s,
    services: s.services.flatMap((svc) => {
      if (!notApplied.has(`${s.name}/${svc.name}`)) return [svc];
      const old = prevService(s.name, svc.name);
      // Old specs were hashed with the same state-dir salt.
      return old ? [old] : [];
    }),
  }));
  return { ...next, revision: prev?.revision ?? next.revision, stacks };
}
