import type { ServiceSpec } from '../model/desired.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerDetails, DockerPort } from '../ports/docker.js';
import { GateError } from './gates.js';

export interface ReadinessOptions {
  docker: DockerPort;
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Poll period (default 100 ms): health flips at most once per healthcheck interval, and every poll saved is rollout time. */
  pollMs?: number;
  progress?(message: string): void;
}

/**
 * Has a freshly started container proven itself? With a healthcheck: Docker
 * says `healthy` (fails fast on `unhealthy`, an exit, or a restart). Without
 * one: it stays up, unrestarted, for `x-berth.minReadySeconds`.
 */
export async function waitReady(id: string, spec: ServiceSpec, opts: ReadinessOptions): Promise<ContainerDetails> {
  const { docker, clock } = opts;
  const poll = opts.pollMs ?? 100;
  const what = `${spec.stack}/${spec.name}`;
  const first = await docker.inspectContainer(id);
  const restarts = first.restartCount;
  const minReadyMs = spec.berth.minReadySeconds * 1000;
  const start = clock.now();
  const deadline = start + (first.hasHealthcheck ? opts.timeoutMs : minReadyMs);
  opts.progress?.(first.hasHealthcheck ? `waiting for ${what} to be healthy` : minReadyMs > 0 ? `watching ${what} for ${spec.berth.minReadySeconds}s (no healthcheck)` : `checking ${what} is running (no healthcheck, minReadySeconds 0)`);
  let last = first;
  for (;;) {
    if (opts.signal?.aborted) throw new GateError(`stopped while waiting for ${what} (shutdown requested)`, 'aborted', last.lastHealthOutput);
    if (last.restartCount > restarts || (!last.running && last.status !== 'created')) {
      throw new GateError(
        `the new container ${last.running ? 'restarted' : `exited with code ${last.exitCode}`} before it was ready`,
        'container-exited',
        last.lastHealthOutput,
      );
    }
    if (first.hasHealthcheck) {
      if (last.health === 'healthy') return last;
      if (last.health === 'unhealthy') {
        throw new GateError(`the new container is unhealthy${detail(last)}`, 'unhealthy', last.lastHealthOutput);
      }
    }
    const now = clock.now();
    if (now >= deadline) {
      if (!first.hasHealthcheck) return last;
      throw new GateError(
        `the new container is not healthy after ${Math.round(opts.timeoutMs / 1000)}s (health: ${last.health ?? 'none'})${detail(last)}`,
        'health-timeout',
        last.lastHealthOutput,
      );
    }
    await clock.sleep(Math.min(poll, deadline - now), opts.signal);
    last = await docker.inspectContainer(id);
  }
}

function detail(c: ContainerDetails): string {
  return c.lastHealthOutput ? `; last health check output: ${c.lastHealthOutput}` : '';
}
