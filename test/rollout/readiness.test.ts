import { describe, expect, it } from 'vitest';
import type { ContainerDetails, DockerPort } from '../../src/ports/docker.js';
import type { Clock } from '../../src/ports/clock.js';
import { GateError } from '../../src/rollout/gates.js';
import { waitReady } from '../../src/rollout/readiness.js';
import { serviceSpec } from '../support/service-spec.js';

/** A container whose inspect results follow a script (the last one repeats), on a fake clock. */
function scripted(states: Partial<ContainerDetails>[]) {
  let t = 0;
  let i = 0;
  const base: ContainerDetails = { id: 'c1', name: 'x', running: true, status: 'running', exitCode: 0, health: 'starting', lastHealthOutput: null, hasHealthcheck: true, restartCount: 0, labels: {}, networks: [], addresses: {} };
  const docker = { inspectContainer: async () => ({ ...base, ...states[Math.min(i++, states.length - 1)] }) } as unknown as DockerPort;
  const clock: Clock = { now: () => t, sleep: async (ms) => void (t += ms) };
  return { docker, clock, elapsed: () => t };
}

const spec = (minReadySeconds = 0) => {
  const s = serviceSpec({ name: 'web', stack: 'shop' });
  return { ...s, berth: { ...s.berth, minReadySeconds } };
};

async function gate(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(GateError);
  return (e as GateError).gate;
}

describe('waitReady', () => {
  it('returns once Docker reports healthy', async () => {
    const f = scripted([{ health: 'starting' }, { health: 'starting' }, { health: 'healthy' }]);
    const c = await waitReady('c1', spec(), { docker: f.docker, clock: f.clock, timeoutMs: 10_000 });
    expect(c.health).toBe('healthy');
    expect(f.elapsed()).toBe(200);
  });

  it('fails fast on unhealthy, with the probe output', async () => {
    const f = scripted([{ health: 'starting' }, { health: 'unhealthy', lastHealthOutput: 'HTTP 404' }]);
    const e = await waitReady('c1', spec(), { docker: f.docker, clock: f.clock, timeoutMs: 60_000 }).catch((x: GateError) => x);
    expect(e).toMatchObject({ gate: 'unhealthy', lastHealthOutput: 'HTTP 404' });
    expect(f.elapsed()).toBe(100);
  });

  it('fails when the container exits or restarts before it is ready', async () => {
    expect(await gate(waitReady('c1', spec(), { ...scripted([{}, { running: false, status: 'exited', exitCode: 1 }]), timeoutMs: 60_000 }))).toBe('container-exited');
    expect(await gate(waitReady('c1', spec(), { ...scripted([{}, { restartCount: 1 }]), timeoutMs: 60_000 }))).toBe('container-exited');
  });

  it('times out when health stays starting', async () => {
    const f = scripted([{ health: 'starting' }]);
    expect(await gate(waitReady('c1', spec(), { docker: f.docker, clock: f.clock, timeoutMs: 3_000 }))).toBe('health-timeout');
    expect(f.elapsed()).toBe(3_000);
  });

  it('without a healthcheck: minReadySeconds of staying up, failing on an exit inside it', async () => {
    const ok = scripted([{ hasHealthcheck: false, health: null }]);
    await waitReady('c1', spec(2), { docker: ok.docker, clock: ok.clock, timeoutMs: 60_000 });
    expect(ok.elapsed()).toBe(2_000);
    const dies = scripted([{ hasHealthcheck: false, health: null }, { hasHealthcheck: false, health: null }, { hasHealthcheck: false, health: null, running: false, status: 'exited', exitCode: 137 }]);
    expect(await gate(waitReady('c1', spec(2), { docker: dies.docker, clock: dies.clock, timeoutMs: 60_000 }))).toBe('container-exited');
    const zero = scripted([{ hasHealthcheck: false, health: null }]);
    await waitReady('c1', spec(0), { docker: zero.docker, clock: zero.clock, timeoutMs: 60_000 });
    expect(zero.elapsed()).toBe(0);
  });
});
