import type { BerthSettings, DesiredState } from '../model/desired.js';
import type { Clock } from '../ports/clock.js';
import type { TraefikPort } from '../ports/traefik.js';
import { bakeInTraefik } from './traefik-gate.js';
import type { BakeGate } from './types.js';

/**
 * The start-first bake gate from berth.yaml `traefik:` (PRODUCT.md §6, §8):
 * the new container, already healthy in Docker and in the service's DNS,
 * must register in Traefik, stay UP and keep the service under the circuit
 * breaker for `rollout.bakeSeconds`. Without `traefik.api`: no gate.
 */
export function traefikBakeGate(settings: BerthSettings, clock: Clock, client: (api: string) => TraefikPort): BakeGate | undefined {
  const cfg = settings.traefik;
  if (!cfg) return undefined;
  const traefik = client(cfg.api);
  return async ({ spec, container, signal, progress }) => {
    const report = await bakeInTraefik({
      traefik,
      clock,
      signal,
      stack: spec.stack,
      service: spec.name,
      labels: container.labels,
      serverHosts: Object.values(container.addresses),
      bakeSeconds: settings.rollout.bakeSeconds,
      circuitBreaker: cfg.circuitBreaker || null,
      progress,
    });
    if (!report.checked) return `traefik: not checked (${report.reason ?? 'not routed through Traefik'})`;
    return `traefik: ${report.services.join(', ')} baked ${settings.rollout.bakeSeconds}s${report.detail ? ` (${report.detail})` : ''}`;
  };
}

/** What the CLI and `berth run` hand to reconcile: a gate per desired state (berth.yaml may change per commit). */
export function bakeGateFactory(clock: Clock, client: (api: string) => TraefikPort): (desired: DesiredState) => BakeGate | undefined {
  return (desired) => traefikBakeGate(desired.settings, clock, client);
}
