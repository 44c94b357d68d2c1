import type { DependsOn } from '../model/desired.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerDetails, DockerPort } from '../ports/docker.js';

export class GateError extends Error {
  constructor(
    message: string,
    readonly gate: string,
    readonly lastHealthOutput: string | null = null,
  ) {
    super(message);
  }
}

export interface GateContext {
  docker: DockerPort;
  clock: Clock;
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Wait until a dependency satisfies its `depends_on` condition: healthy,
 * exited 0, or running. Polls inspect (a gate, never part of a no-op pass).
 * A failure names the service and carries its last health probe output.
 */
export async function waitForCondition(
  ctx: GateContext,
  container: string,
  service: string,
  condition: DependsOn['condition'],
): Promise<void> {
  const deadline = ctx.clock.now() + ctx.timeoutMs;
  const poll = ctx.pollMs ?? 500;
  let last: ContainerDetails | null = null;
  for (;;) {
    if (ctx.signal?.aborted) throw new GateError(`stopped while waiting for ${service}`, 'aborted');
    try {
      last = await ctx.docker.inspectContainer(container);
    } catch (e) {
      throw new GateError(`dependency ${service}: container ${container} not found (${(e as Error).message})`, 'dependency-missing');
    }
    switch (condition) {
      case 'service_started':
        if (last.running || last.status === 'exited') return;
        break;
      case 'service_completed_successfully':
        if (!last.running && last.status === 'exited') {
          if (last.exitCode === 0) return;
          throw new GateError(`dependency ${service} exited with code ${last.exitCode}; service_completed_successfully requires 0`, 'dependency-failed');
        }
        break;
      case 'service_healthy':
        if (!last.hasHealthcheck) {
          throw new GateError(`dependency ${service} has no healthcheck, so condition service_healthy can never be met`, 'no-healthcheck');
        }
        if (last.health === 'healthy') return;
        if (!last.running && last.status !== 'created' && last.status !== 'restarting') {
          throw new GateError(`dependency ${service} is not running (${last.status}, exit code ${last.exitCode})`, 'dependency-exited', last.lastHealthOutput);
        }
        break;
    }
    if (ctx.clock.now() >= deadline) {
      const detail = last.lastHealthOutput ? `; last health check output: ${last.lastHealthOutput}` : '';
      throw new GateError(
        `timed out after ${Math.round(ctx.timeoutMs / 1000)}s waiting for ${service} to be ${condition.replace('service_', '').replace(/_/g, ' ')} (health: ${last.health ?? 'none'})${detail}`,
        'health-timeout',
        last.lastHealthOutput,
      );
    }
    await ctx.clock.sleep(poll, ctx.signal);
  }
}
