import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';
import { createValidators } from '../../src/compose/schema.js';
import { Controller } from '../../src/loop/controller.js';
import type { ReconcileResult } from '../../src/model/outcome.js';
import type { Clock } from '../../src/ports/clock.js';
import type { DockerPort } from '../../src/ports/docker.js';
import { silentLogger } from '../../src/ports/logger.js';
import { fakeEngine } from '../support/fake-docker.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { controllerTimers, localGit } from '../support/controller-unit.js';

/**
 * `berth run` retries a revision whose apply failed when its backoff ends
 * (1/16 of the interval, doubling, capped at the interval), without waiting
 * for the next interval tick or Docker event. Fake timers drive the time;
 * the engine is in memory and refuses pulls while `registryDown` is set.
 */
const INTERVAL = 16_000;
// Compiled once: schema compilation is most of a pass here.
const validators = createValidators();

interface Rig {
  controller: Controller;
  results: ReconcileResult[];
  pulls: string[];
  setRegistryDown(down: boolean): void;
  setRevision(rev: string): void;
}

function rig(): Rig {
  const repo = tmpRepo({ 'stacks/shop/compose.yaml': 'services:\n  app:\n    image: registry.test/shop/app:1\n    x-berth: {minReadySeconds: 0}\n' });
  const engine = fakeEngine();
  let down = true;
  let revision = 'a'.repeat(40);
  const pulls: string[] = [];
  const docker: DockerPort = {
    ...engine.docker,
    createNetwork: async () => 'net1',
    pullImage: async (ref) => {
      pulls.push(ref);
      if (down) throw new Error(`pull image ${ref}: Get "http://registry.test/v2/": dial tcp: connection refused`);
    },
  };
  const git = localGit(() => revision);
  // Time is Date.now (faked); gates that wait do not need to here (the fake engine is healthy at once).
  const clock: Clock = { now: () => Date.now(), sleep: async () => undefined };
  const results: ReconcileResult[] = [];
  const controller = new Controller(
    { repo, branch: 'main', intervalMs: INTERVAL, name: 'test' },
    {
      docker,
      git,
      state: new StateDir(mkdtempSync(join(tmpdir(), 'berth-state-'))),
      clock,
      env: {},
      log: silentLogger,
      validators,
      random: () => 0.5,
      events: { reconciled: (r) => results.push(r) },
    },
  );
  return { controller, results, pulls, setRegistryDown: (d) => (down = d), setRevision: (r) => (revision = r) };
}

/** Let the timers due in `ms` fire and the passes they start run to the end (their I/O is real). */
async function advance(r: Rig, ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await r.controller.idle();
}

/** Milliseconds from now until the backoff of the failed revision ends. */
function backoffLeft(r: Rig): number | null {
  const b = r.controller.status().backoff;
  return b ? Date.parse(b.until) - Date.now() : null;
}

const track = controllerTimers();

describe('controller: a failed revision is retried when its backoff ends', () => {
  it('retries after 1/16 of the interval, doubling, and converges once the pull works', async () => {
    const r = track(rig());
    r.controller.start();
    await r.controller.idle();
    expect(r.results.map((x) => x.outcome)).toEqual(['failed']);
    expect(r.controller.status().backoff?.attempts).toBe(1);
    expect(backoffLeft(r)).toBe(INTERVAL / 16);

    // Nothing before the backoff ends; one pass when it does.
    await advance(r, INTERVAL / 16 - 1);
    expect(r.results).toHaveLength(1);
    await advance(r, 1);
    expect(r.results.map((x) => x.outcome)).toEqual(['failed', 'failed']);
    expect(r.controller.status().backoff?.attempts).toBe(2);
    expect(backoffLeft(r)).toBe(INTERVAL / 8);

    await advance(r, INTERVAL / 8 - 1);
    expect(r.results).toHaveLength(2);
    await advance(r, 1);
    expect(r.results).toHaveLength(3);
    expect(backoffLeft(r)).toBe(INTERVAL / 4);

    // The registry is back: the next retry converges and nothing more is scheduled.
    r.setRegistryDown(false);
    await advance(r, INTERVAL / 4);
    expect(r.results.map((x) => x.outcome)).toEqual(['failed', 'failed', 'failed', 'converged']);
    expect(r.controller.status().backoff).toBeNull();
    expect(r.pulls).toEqual(Array(4).fill('registry.test/shop/app:1'));
    // Up to the next interval tick (16 s after start; 7 s have passed) no pass runs.
    await advance(r, INTERVAL - 7_000 - 1);
    expect(r.results).toHaveLength(4);
  });

  it('caps the backoff at the interval', async () => {
    const r = track(rig());
    r.controller.start();
    await r.controller.idle();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const left = backoffLeft(r)!;
      waits.push(left);
      await advance(r, left);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000]);
    expect(r.results.every((x) => x.outcome === 'failed')).toBe(true);
  });

  it('a new commit supersedes the pending retry of the failed one', async () => {
    const r = track(rig());
    r.controller.start();
    await r.controller.idle();
    expect(r.results).toHaveLength(1);
    // A webhook brings a new commit before the retry is due; it converges.
    r.setRegistryDown(false);
    r.setRevision('b'.repeat(40));
    await advance(r, 500);
    r.controller.trigger('webhook');
    await r.controller.idle();
    expect(r.results.map((x) => [x.source.revision?.[0], x.outcome])).toEqual([
      ['a', 'failed'],
      ['b', 'converged'],
    ]);
    // The old retry does not fire.
    await advance(r, INTERVAL / 16);
    expect(r.results).toHaveLength(2);
  });

  it('stop() cancels the pending retry', async () => {
    const r = rig();
    r.controller.start();
    await r.controller.idle();
    expect(r.controller.status().backoff).not.toBeNull();
    await r.controller.stop();
    expect(vi.getTimerCount()).toBe(0);
    await advance(r, INTERVAL);
    expect(r.results).toHaveLength(1);
  });
});
