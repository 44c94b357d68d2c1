import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';
import { FsWorkingTreeHasher } from '../../src/adapters/working-tree-hasher.js';
import { StateDir } from '../../src/adapters/state-dir.js';
import { createValidators } from '../../src/compose/schema.js';
import type { OpenDrift, ResolvedDrift } from '../../src/drift/lifecycle.js';
import { SwarmController } from '../../src/loop/swarm-controller.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Logger } from '../../src/ports/logger.js';
import { FakeManager } from '../swarm/fake-manager.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * A SwarmController on a `mode: swarm` host whose manager is a FakeManager,
 * over a repo of one stack `shop` with `web` (2 replicas), at one fixed
 * revision. Its log lines and drift changes are kept in order.
 */
const validators = createValidators();

export function swarmRig(opts: { intervalMs: number }) {
  const repo = tmpRepo({
    'berth.yaml': 'hosts:\n  cluster:\n    docker: tcp://manager:2376\n    mode: swarm\n    stacks: ["*"]\n',
    'stacks/shop/compose.yaml': 'services:\n  web:\n    image: acme/web:1\n    deploy: {replicas: 2}\n',
  });
  const manager = new FakeManager();
  const lines: string[] = [];
  const drift: { appeared: OpenDrift[]; resolved: ResolvedDrift[] }[] = [];
  const log: Logger = { info: (_o, m) => void lines.push(m ?? ''), warn: (_o, m) => void lines.push(m ?? ''), error: (_o, m) => void lines.push(m ?? ''), debug: () => undefined } as Logger;
  const controller = new SwarmController(
    { repo, branch: 'main', target: 'cluster', intervalMs: opts.intervalMs },
    {
      swarm: async () => manager,
      fetch: async () => ({ source: { dir: repo, revision: 'a'.repeat(40), origin: repo }, clean: true }),
      state: new StateDir(mkdtempSync(join(tmpdir(), 'berth-swarm-controller-'))),
      clock: systemClock,
      env: {},
      log,
      validators,
      files: { git: null, hasher: new FsWorkingTreeHasher() },
      readFile: async () => Buffer.alloc(0),
      pollMs: 10,
      events: { driftChanged: (change) => void drift.push(change) },
    },
  );
  return { manager, controller, lines, drift };
}

export async function pass(controller: SwarmController, reason: string): Promise<void> {
  controller.trigger(reason);
  await settled(controller);
}

/**
 * Until the pass started (by a trigger or a timer) is over: fake time moves on in small
 * steps (the gates' polls), real time lets the pass's file reads finish.
 */
export async function settled(controller: SwarmController): Promise<void> {
  const end = performance.now() + 20_000;
  while (performance.now() < end) {
    await vi.advanceTimersByTimeAsync(10);
    await new Promise((r) => setImmediate(r));
    if (!controller.busy()) return;
  }
  throw new Error(`the pass did not end: ${JSON.stringify(controller.status().lastResult)}`);
}

/**
 * Fake time (timers and Date, from 2026-01-01) around each test of the file; the test's
 * controller, as `current` gives it, is stopped after it.
 */
export function fakeTimeEachTest(current: () => { controller: SwarmController } | undefined): void {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(async () => {
    await current()?.controller.stop();
    vi.useRealTimers();
  });
}
