import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';
import { createValidators } from '../../src/compose/schema.js';
import { Controller } from '../../src/loop/controller.js';
import type { LiveContainer, LiveNetwork } from '../../src/model/live.js';
import type { ReconcileResult } from '../../src/model/outcome.js';
import type { Clock } from '../../src/ports/clock.js';
import type { DockerEvent, DockerPort } from '../../src/ports/docker.js';
import { silentLogger } from '../../src/ports/logger.js';
import { fakeEngine } from '../support/fake-docker.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { controllerTimers, localGit } from '../support/controller-unit.js';

/**
 * Engine 20.10 sends a container's 'die' before its container list shows the exit (the list is
 * a copy the engine updates last). A pass that starts on the 'die' at once may see the container
 * still running; the controller looks again until a pass sees it stopped, and heals it then —
 * no later event is needed (a crash sends none). The engine here is in memory; its list shows
 * a died container as running for the first `staleLists` list calls after the 'die'.
 */
const validators = createValidators();

interface Rig {
  controller: Controller;
  results: ReconcileResult[];
  starts: string[];
  /** The container exits, the engine sends 'die', its list shows the exit only after `staleLists` more list calls. */
  crash(name: string, staleLists: number): void;
}

function rig(): Rig {
  const repo = tmpRepo({ 'stacks/shop/compose.yaml': 'services:\n  app:\n    image: registry.test/shop/app:1\n    x-berth: {minReadySeconds: 0}\n' });
  const engine = fakeEngine();
  const networks = new Map<string, LiveNetwork>();
  let onEvent: ((e: DockerEvent) => void) | null = null;
  const stale = new Map<string, number>();
  const starts: string[] = [];
  const docker: DockerPort = {
    ...engine.docker,
    createNetwork: async (spec, labels) => {
      networks.set(spec.name, { id: `n-${spec.name}`, name: spec.name, driver: spec.driver, internal: spec.internal, attachable: spec.attachable, enableIpv6: spec.enableIpv6, ipam: { driver: 'default', config: [] }, labels });
      return `n-${spec.name}`;
    },
    listNetworks: async () => [...networks.values()],
    listContainers: async (): Promise<LiveContainer[]> =>
      [...engine.containers.values()].map((c) => {
        const left = stale.get(c.id) ?? 0;
        if (left > 0) stale.set(c.id, left - 1);
        const running = c.running || left > 0;
        return { id: c.id, name: c.name, image: c.image, imageId: `sha256:${c.image}`, state: running ? 'running' : 'exited', status: running ? 'Up' : 'Exited (1)', health: null, labels: c.labels, networks: [...c.networks], created: 0 };
      }),
    startContainer: async (id) => {
      starts.push(id);
      await engine.docker.startContainer(id);
    },
    events: (cb) => {
      onEvent = cb;
      return () => (onEvent = null);
    },
  };
  const git = localGit(() => 'a'.repeat(40));
  const clock: Clock = { now: () => Date.now(), sleep: async () => undefined };
  const results: ReconcileResult[] = [];
  const controller = new Controller(
    { repo, branch: 'main', intervalMs: 3_600_000, name: 'test' },
    { docker, git, state: new StateDir(mkdtempSync(join(tmpdir(), 'berth-state-'))), clock, env: {}, log: silentLogger, validators, random: () => 0.5, events: { reconciled: (r) => results.push(r) } },
  );
  const crash = (name: string, staleLists: number) => {
    const c = engine.byName(name)!;
    c.running = false;
    stale.set(c.id, staleLists);
    onEvent?.({ type: 'container', action: 'die', id: c.id, name: c.name, labels: c.labels, time: Date.now() });
  };
  return { controller, results, starts, crash };
}

/** Let the timers due in `ms` fire and the passes they start run to the end (their I/O is real). */
async function advance(r: Rig, ms: number): Promise<void> {
  for (let i = 0; i < ms / 50; i++) {
    await vi.advanceTimersByTimeAsync(50);
    await r.controller.idle();
  }
}

const track = controllerTimers();

describe('controller: a container that died is healed even when the list still shows it running', () => {
  it('looks again after passes that saw it running, and starts it once it shows stopped', async () => {
    const r = track(rig());
    r.controller.start();
    await r.controller.idle();
    expect(r.results.map((x) => x.outcome)).toEqual(['converged']);
    const created = r.starts.length;

    r.crash('shop-app-1', 2);
    await advance(r, 1_000);
    const after = r.results.slice(1).map((x) => x.outcome);
    // Two passes saw a stale "running" and changed nothing; the third started it.
    expect(after).toEqual(['in-sync', 'in-sync', 'converged']);
    expect(r.starts).toHaveLength(created + 1);

    // Healed, nothing more to look at: no further pass.
    await advance(r, 2_000);
    expect(r.results).toHaveLength(4);
  });

  it('stops looking after a bounded number of passes', async () => {
    const r = track(rig());
    r.controller.start();
    await r.controller.idle();
    r.crash('shop-app-1', 1_000);
    await advance(r, 5_000);
    const passes = r.results.length - 1;
    expect(passes).toBeGreaterThan(1);
    await advance(r, 5_000);
    expect(r.results.length - 1).toBe(passes);
  });
});
