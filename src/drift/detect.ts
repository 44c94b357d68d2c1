import { LABEL, isManaged } from '../labels.js';
import type { AppliedRecord, RedactedServiceSpec } from '../model/applied.js';
import type { LiveContainer, LiveState } from '../model/live.js';
import { replicaCount, replicaNames } from '../model/replicas.js';
import { replicaSummary, serviceReplicas } from './replica-status.js';

/**
 * Drift: a difference between what berth last applied and what the host
 * has, that nobody committed (PRODUCT.md §7). Pure: record × snapshot.
 */
export type DriftKind = 'container' | 'network' | 'volume' | 'service' | 'node';
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
      // A scaled service: each replica is checked on its own, and what was found says how many run.
      const count = replicaCount(svc) > 1 ? ` (${replicaSummary(svc.name, serviceReplicas(svc, containers))})` : '';
      for (const name of replicaNames(svc)) containerDrift(out, stack.name, svc, name, containers.get(name), oneShots, count);
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

/** Drift of one container (a replica) of an applied service. */
function containerDrift(out: DriftItem[], stack: string, svc: RedactedServiceSpec, name: string, c: LiveContainer | undefined, oneShots: Set<string>, count: string): void {
  if (!c || c.state === 'removing') {
    // A container being removed is gone for our purposes: one drift item from the first sight on.
    out.push(item(stack, 'container', name, svc.name, 'missing', `container ${name} running`, `${c ? 'being removed' : 'no such container'}${count}`));
    return;
  }
  if (!isManaged(c.labels)) {
    out.push(item(stack, 'container', name, svc.name, 'unmanaged', `container ${name} created by berth`, `a container without ${LABEL.managed}=true (image ${c.image})`));
    return;
  }
  if (c.labels[LABEL.configHash] !== svc.configHash) {
    out.push(
      item(stack, 'container', name, svc.name, 'modified', `config ${short(svc.configHash)}`, `config ${short(c.labels[LABEL.configHash] ?? 'none')} (recreated outside berth)`),
    );
    return;
  }
  const completedOk = c.state === 'exited' && /^Exited \(0\)/.test(c.status) && oneShots.has(svc.name);
  if (c.state !== 'running' && !completedOk) {
    out.push(item(stack, 'container', name, svc.name, 'stopped', 'running', `${c.state} (${c.status})${count}`));
  }
  if (svc.networkMode === null) {
    const want = svc.networks.map((n) => n.name).sort();
    const have = [...c.networks].sort();
    if (want.join(',') !== have.join(',')) {
      const missing = want.filter((n) => !have.includes(n));
      const extra = have.filter((n) => !want.includes(n));
      out.push(
        item(stack, 'container', name, svc.name, 'networks', `networks ${want.join(', ') || '(none)'}`, [...missing.map((n) => `-${n}`), ...extra.map((n) => `+${n}`)].join(' ')),
      );
    }
  }
}

function short(hash: string): string {
  return hash.replace(/^v1:/, '').slice(0, 12);
}
