import type { DesiredState } from '../model/desired.js';
import type { PlanError } from '../model/plan.js';

/** What the connected engine says it is (`GET /version`). */
export interface EngineVersion {
  /** `20.10.24` */
  version: string;
  /** `1.41` */
  apiVersion: string;
}

/** One use of a key that needs a newer engine than Docker 20.10. */
export interface EngineRequirement {
  stack: string;
  service: string;
  /** Where in the stack's Compose file the key is. */
  path: (string | number)[];
  /** The key as the file writes it, for the message. */
  what: string;
  apiVersion: string;
  engine: string;
}

/** Engine API version each feature needs, with the Docker Engine release that brought it (the API's version history). */
const NEEDS = {
  imageMount: { apiVersion: '1.48', engine: '28.0' },
  interfaceName: { apiVersion: '1.49', engine: '28.1' },
  // An older engine would ignore the field: the container would run without them.
  annotations: { apiVersion: '1.43', engine: '24.0' },
} as const;

/**
 * Every key of the desired state that needs more than the oldest engine
 * berth drives (API 1.41). Validation accepts them — they are valid Compose;
 * whether the host can do them is a question about the host, asked at plan
 * time, and only when some key needs it (a plain state costs no extra call).
 */
export function engineRequirements(desired: DesiredState): EngineRequirement[] {
  const out: EngineRequirement[] = [];
  for (const stack of desired.stacks) {
    for (const svc of stack.services) {
      for (const m of svc.mounts) {
        if (m.type === 'image') out.push({ stack: stack.name, service: svc.name, path: ['services', svc.name, 'volumes'], what: `mount \`type: image\` (${m.source} at ${m.target})`, ...NEEDS.imageMount });
      }
      if (svc.host?.annotations) out.push({ stack: stack.name, service: svc.name, path: ['services', svc.name, 'annotations'], what: '`annotations`', ...NEEDS.annotations });
      for (const n of svc.networks) {
        if (n.interfaceName) out.push({ stack: stack.name, service: svc.name, path: ['services', svc.name, 'networks', n.key, 'interface_name'], what: '`interface_name`', ...NEEDS.interfaceName });
      }
    }
  }
  return out;
}

/** The requirements this engine does not meet, as plan errors located at the key (nothing is applied from a plan with errors). */
export function engineCapabilityErrors(requirements: EngineRequirement[], engine: EngineVersion): PlanError[] {
  return requirements
    .filter((r) => compareApi(engine.apiVersion, r.apiVersion) < 0)
    .map((r) => ({
      code: 'engine-too-old',
      stack: r.stack,
      object: r.service,
      path: r.path,
      message: `${r.what} needs Docker Engine ${r.engine} (API ${r.apiVersion}) or newer; this engine is ${engine.version} (API ${engine.apiVersion})`,
    }));
}

/** `1.41` vs `1.48`, numerically per part. */
export function compareApi(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
