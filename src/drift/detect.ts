import { LABEL, isManaged } from '../labels.js';
import type { AppliedRecord } from '../model/applied.js';
import type { LiveState } from '../model/live.js';

/**
 * Drift: a difference between what berth last applied and what the host
 * has, that nobody committed (PRODUCT.md §7). Pure: record × snapshot.
 */
export type DriftKind = 'container' | 'network' | 'volume';
export type DriftAspect = 'missing' | 'stopped' | 'modified' | 'unmanaged' | 'networks' | 'foreign-attached';

export interface DriftItem {
  /** Stable identity (stack + kind + object + aspect): the same drift keeps the same id across loops. */
  id: string;
  stack: string;
  kind: DriftKind;
  object: string;
  /** For containers: the service name. */
  service: string | null;
  aspect: DriftAspect;
  expected: string;
  found: string;
}

function item(stack: string, kind: DriftKind, object: string, service: string | null, aspect: DriftAspect, expected: string, found: string): DriftItem {
  return { id: `${stack}/${kind}/${object}/${aspect}`, stack, kind, object, service, aspect, expected, found };
}

export function detectDrift(applied: AppliedRecord, live: LiveState): DriftItem[] {
  const out: DriftItem[] = [];
  const containers = new Map(live.containers.map((c) => [c.name, c]));
  const networks = new Map(live.networks.map((n) => [n.name, n]));
  const volumes = new Set(live.volumes.map((v) => v.name));

  for (const stack of applied.stacks) {
    const oneShots = new Set(
      stack.services.flatMap((s) => s.dependsOn.filter((d) => d.condition === 'service_completed_successfully').map((d) => d.service)),
    );
    for (const svc of stack.services) {
      const c = containers.get(svc.containerName);
      const name = svc.containerName;
      if (!c || c.state === 'removing') {
        // A container being removed is gone for our purposes: one drift item from the first sight on.
        out.push(item(stack.name, 'container', name, svc.name, 'missing', `container ${name} running`, c ? 'being removed' : 'no such container'));
        continue;
      }
      if (!isManaged(c.labels)) {
        out.push(item(stack.name, 'container', name, svc.name, 'unmanaged', `container ${name} created by berth`, `a container without ${LABEL.managed}=true (image ${c.image})`));
        continue;
      }
      if (c.labels[LABEL.configHash] !== svc.configHash) {
        out.push(
          item(stack.name, 'container', name, svc.name, 'modified', `config ${short(svc.configHash)}`, `config ${short(c.labels[LABEL.configHash] ?? 'none')} (recreated outside berth)`),
        );
        continue;
      }
      const completedOk = c.state === 'exited' && /^Exited \(0\)/.test(c.status) && oneShots.has(svc.name);
      if (c.state !== 'running' && !completedOk) {
        out.push(item(stack.name, 'container', name, svc.name, 'stopped', 'running', `${c.state} (${c.status})`));
      }
      if (svc.networkMode === null) {
        const want = svc.networks.map((n) => n.name).sort();
        const have = [...c.networks].sort();
        if (want.join(',') !== have.join(',')) {
          const missing = want.filter((n) => !have.includes(n));
          const extra = have.filter((n) => !want.includes(n));
          out.push(
            item(stack.name, 'container', name, svc.name, 'networks', `networks ${want.join(', ') || '(none)'}`, [...missing.map((n) => `-${n}`), ...extra.map((n) => `+${n}`)].join(' ')),
          );
        }
      }
    }
    for (const n of stack.networks) {
      if (n.external) continue;
      const ln = networks.get(n.name);
      if (!ln) {
        out.push(item(stack.name, 'network', n.name, null, 'missing', `network ${n.name}`, 'no such network'));
        continue;
      }
      if (n.internal) {
        const foreign = live.containers.filter((c) => c.networks.includes(n.name) && !isManaged(c.labels)).map((c) => c.name).sort();
        if (foreign.length > 0) {
          out.push(item(stack.name, 'network', n.name, null, 'foreign-attached', 'only berth-managed containers on this internal network', `unmanaged: ${foreign.join(', ')}`));
        }
      }
    }
    for (const v of stack.volumes) {
      if (v.external) continue;
      if (!volumes.has(v.name)) out.push(item(stack.name, 'volume', v.name, null, 'missing', `volume ${v.name}`, 'no such volume'));
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function short(hash: string): string {
  return hash.replace(/^v1:/, '').slice(0, 12);
}
