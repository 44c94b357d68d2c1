import type { BerthSettings, RolloutStrategy, ServiceSpec } from '../model/desired.js';
import type { RolloutReport } from '../model/outcome.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerDetails, DockerPort } from '../ports/docker.js';
import { GateError } from './gates.js';

/** What a rollout strategy needs; built by apply for one `service.recreate` op. */
export interface RolloutContext {
  docker: DockerPort;
  clock: Clock;
  settings: BerthSettings;
  /** Labels for the new container (berth's ownership labels included). */
  labels: Record<string, string>;
  signal?: AbortSignal;
  progress(message: string): void;
  /** A gate after readiness, before the old container goes (the Traefik bake); absent = none. */
  bake?: BakeGate;
}

/**
 * Watches the new container once it is ready, while the old one still
 * serves. Resolves with a note for the report (or null when it did not
 * apply to this service), throws a GateError to stop the rollout.
 */
export type BakeGate = (input: { spec: ServiceSpec; container: ContainerDetails; signal?: AbortSignal; progress(message: string): void }) => Promise<string | null>;

/**
 * The same bake for a swarm service whose new tasks run and are healthy:
 * Traefik's swarm provider reads the service's labels (deploy.labels) and
 * sends traffic to the tasks' addresses. Resolves with the note for the
 * report, throws a GateError to have the update rolled back.
 */
export type SwarmBakeGate = (input: {
  stack: string;
  /** The compose service and the swarm service's name (`<stack>_<service>`). */
  service: string;
  name: string;
  labels: Record<string, string>;
  serverHosts: string[];
  signal?: AbortSignal;
  progress(message: string): void;
}) => Promise<string>;

export type { RolloutReport, RolloutResult } from '../model/outcome.js';

/**
 * A rollout that did not promote the new container. `rolledBack` tells
 * whether the old container is serving as before (the usual case); when
 * false, restoring it failed too and the service needs a person.
 */
export class RolloutFailure extends Error {
  constructor(
    message: string,
    readonly strategy: RolloutStrategy,
    readonly gate: string,
    readonly lastHealthOutput: string | null,
    readonly rolledBack: boolean,
  ) {
    super(message);
  }

  static from(e: unknown, strategy: RolloutStrategy, rolledBack: boolean, rollbackError: string | null): RolloutFailure {
    const gate = e instanceof GateError ? e.gate : 'docker-error';
    const output = e instanceof GateError ? e.lastHealthOutput : null;
    const message = (e as Error).message + (rollbackError ? `; restoring the old container failed too: ${rollbackError}` : '');
    return new RolloutFailure(message, strategy, gate, output, rolledBack && !rollbackError);
  }

  report(): RolloutReport {
    return { strategy: this.strategy, result: this.rolledBack ? 'rolled_back' : 'failed', gate: this.gate, lastHealthOutput: this.lastHealthOutput };
  }
}
