import type { DesiredState, ServiceSpec } from '../../model/desired.js';
import type { LintRule, RawFinding } from '../finding.js';
import { isTraefik } from './exposure.js';

/**
 * "Backing" network, precisely: a network the repo declares (not `external`)
 * that at least one database-tier service uses, and that no service uses
 * which faces the outside or may need a way out through it — none publishes
 * a port, none is Traefik or routed by Traefik (traefik.* labels), and none
 * has this network as its only network. Such a network only carries traffic
 * to databases, so `internal: true` costs nothing and takes away a
 * compromised database's route to the internet. The conditions keep false
 * positives low: a network shared with the edge, or an app's only network,
 * is never reported.
 */

/** Routed by Traefik: `traefik.enable=true`, or traefik.* labels without `traefik.enable=false`. */
export function routedByTraefik(labels: Record<string, string>): boolean {
  const enable = labels['traefik.enable'];
  if (enable !== undefined) return enable.trim().toLowerCase() === 'true';
  return Object.keys(labels).some((k) => k.startsWith('traefik.'));
}

function facesOutside(svc: ServiceSpec): boolean {
  return svc.ports.length > 0 || isTraefik(svc) || routedByTraefik(svc.labels);
}

export const backingNetworkNotInternal: LintRule<'backing-network-not-internal'> = {
  id: 'backing-network-not-internal',
  defaultSeverity: 'warning',
  why: 'a backing network (used by a database-tier service; no service on it publishes ports, is routed by Traefik or has no other network) needs no route out: internal: true cuts a compromised database off from the internet',
  check: (desired: DesiredState) => {
    const services = desired.stacks.flatMap((s) => s.services);
    const out: RawFinding[] = [];
    for (const stack of desired.stacks) {
      for (const net of stack.networks) {
        if (net.external || net.internal || net.driver === 'host' || net.driver === 'none') continue;
        const users = services.filter((s) => s.networks.some((n) => n.name === net.name));
        const databases = users.filter((s) => s.berth.tier === 'database');
        if (databases.length === 0) continue;
        if (users.some((s) => facesOutside(s) || (s.berth.tier === 'app' && s.networks.length === 1))) continue;
        const names = (xs: ServiceSpec[]) => xs.map((s) => (s.stack === stack.name ? s.name : `${s.stack}/${s.name}`)).join(', ');
        const apps = users.filter((s) => s.berth.tier === 'app');
        out.push({
          rule: 'backing-network-not-internal',
          stack: stack.name,
          object: net.name,
          message: `network ${net.key} is used only by backing services (databases: ${names(databases)}${apps.length > 0 ? `; apps with another network: ${names(apps)}` : ''}) but is not internal: true`,
          at: ['networks', net.key],
          silencedBy: users.map((s) => ({ stack: s.stack, service: s.name })),
        });
      }
    }
    return out;
  },
};
