import type { BerthSettings, DesiredState } from '../model/desired.js';
import type { Clock } from '../ports/clock.js';
import type { TraefikPort } from '../ports/traefik.js';
import { bakeInTraefik } from './traefik-gate.js';
import type { BakeGate, SwarmBakeGate } from './types.js';

type TraefikClient = (api: string) => TraefikPort;
/** A swarm service's name is Traefik's default service name; a container has none (Compose's `<service>_<project>` then). */
type Bake = (input: Omit<Parameters<SwarmBakeGate>[0], 'name'> & { name?: string }) => Promise<string>;

/**
 * The bake from berth.yaml `traefik:` (PRODUCT.md §6, §8) of whatever runs
 * the new replicas: they must register in Traefik, stay UP and keep the
 * service under the circuit breaker for `rollout.bakeSeconds`. Without
 * `traefik:`: no gate. One body for engine containers and swarm tasks.
 */
function traefikBake(settings: BerthSettings, clock: Clock, client: TraefikClient): Bake | undefined {
  const cfg = settings.traefik;
  if (!cfg) return undefined;
  const traefik = client(cfg.api);
  return async ({ stack, service, name, labels, serverHosts, signal, progress }) => {
    const report = await bakeInTraefik({
      traefik,
      clock,
      signal,
      stack,
      service,
      ...(name !== undefined ? { defaultServiceName: name } : {}),
      labels,
      serverHosts,
      bakeSeconds: settings.rollout.bakeSeconds,
      circuitBreaker: cfg.circuitBreaker || null,
      progress,
    });
    if (!report.checked) return `traefik: not checked (${report.reason ?? 'not routed through Traefik'})`;
    return `traefik: ${report.services.join(', ')} baked ${settings.rollout.bakeSeconds}s${report.detail ? ` (${report.detail})` : ''}`;
  };
}

/** The start-first gate of an engine host: the new container, already healthy in Docker and in the service's DNS. */
export function traefikBakeGate(settings: BerthSettings, clock: Clock, client: TraefikClient): BakeGate | undefined {
  const bake = traefikBake(settings, clock, client);
  if (!bake) return undefined;
  return ({ spec, container, signal, progress }) => bake({ stack: spec.stack, service: spec.name, labels: container.labels, serverHosts: Object.values(container.addresses), signal, progress });
}

/** What the CLI and `berth run` hand to reconcile: a gate per desired state (berth.yaml may change per commit). */
export function bakeGateFactory(clock: Clock, client: TraefikClient): (desired: DesiredState) => BakeGate | undefined {
  return (desired) => traefikBakeGate(desired.settings, clock, client);
}

/** The same for swarm hosts (`berth apply`, `berth run`): the gate after a service's tasks run the new spec. */
export function swarmBakeGateFactory(clock: Clock, client: TraefikClient): (desired: DesiredState) => SwarmBakeGate | undefined {
  return (desired) => traefikBake(desired.settings, clock, client);
}
