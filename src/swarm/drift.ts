import { LABEL } from '../labels.js';
import type { LiveSwarmService } from '../ports/swarm.js';
import { liveShape } from './engine-spec.js';
import { shapeDiff, shapeHash } from './shape.js';

/**
 * Drift on a swarm host, pure: what berth applied (the record in the host's
 * state dir) × what the manager runs. A service is drifted when it is gone,
 * when its spec no longer hashes to the config-hash label berth wrote (a
 * `docker service update`/`scale` by hand — the label stays, the spec moves),
 * or when fewer tasks run than it asks for (a node lost, tasks not converging).
 */
export interface SwarmAppliedRecord {
  revision: string | null;
  services: { stack: string; service: string; name: string; configHash: string }[];
}

export interface SwarmDriftItem {
  stack: string;
  /** `<stack>/<service>`. */
  object: string;
  aspect: 'missing' | 'spec' | 'tasks';
  expected: string;
  found: string;
}

export function swarmDrift(record: SwarmAppliedRecord, services: LiveSwarmService[], networkNames: ReadonlyMap<string, string>, running: ReadonlyMap<string, number>): SwarmDriftItem[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out: SwarmDriftItem[] = [];
  for (const r of record.services) {
    const object = `${r.stack}/${r.service}`;
    const live = byName.get(r.name);
    if (!live) {
      out.push({ stack: r.stack, object, aspect: 'missing', expected: `service ${r.name}`, found: 'none' });
      continue;
    }
    const now = liveShape(live.spec, networkNames);
    const label = live.labels[LABEL.configHash];
    if (shapeHash(now) !== r.configHash || label !== r.configHash) {
      // The spec before the hand edit, when Swarm kept it, says what changed.
      const before = live.previousSpec ? liveShape(live.previousSpec, networkNames) : null;
      const reasons = before && shapeHash(before) === r.configHash ? shapeDiff(before, now) : [];
      out.push({ stack: r.stack, object, aspect: 'spec', expected: 'the spec berth applied', found: reasons.length > 0 ? `changed by hand: ${reasons.join('; ')}` : 'a different spec' });
    }
    const n = running.get(live.id) ?? 0;
    if (now.mode !== 'global' && n < now.mode.replicated) out.push({ stack: r.stack, object, aspect: 'tasks', expected: `${now.mode.replicated} running`, found: `${n} running` });
  }
  return out;
}
