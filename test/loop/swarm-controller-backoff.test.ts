import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsWorkingTreeHasher } from '../../src/adapters/working-tree-hasher.js';
import { StateDir } from '../../src/adapters/state-dir.js';
import { createValidators } from '../../src/compose/schema.js';
import { SwarmController } from '../../src/loop/swarm-controller.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Logger } from '../../src/ports/logger.js';
import { FakeManager } from '../swarm/fake-manager.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * A swarm host whose manager refuses a create: the revision is retried after
 * its backoff (1/16 of the interval, doubling), not by every event that
 * arrives meanwhile — and a pass that converges ends the backoff.
 */
const INTERVAL_MS = 160_000;
const validators = createValidators();

function rig() {
  const repo = tmpRepo({
    'berth.yaml': 'hosts:\n  cluster:\n    docker: tcp://manager:2376\n    mode: swarm\n    stacks: ["*"]\n',
    'stacks/shop/compose.yaml': 'services:\n  web:\n    image: acme/web:1\n    deploy: {replicas: 2}\n',
  });
  const manager = new FakeManager();
  manager.refuseCreate = true;
  const lines: string[] = [];
  const log: Logger = { info: (_o, m) => void lines.push(m ?? ''), warn: (_o, m) => void lines.push(m ?? ''), error: (_o, m) => void lines.push(m ?? ''), debug: () => undefined } as Logger;
  const controller = new SwarmController(
    { repo, branch: 'main', target: 'cluster', intervalMs: INTERVAL_MS },
    {
      swarm: async () => manager,
      fetch: async () => ({ source: { dir: repo, revision: 'a'.repeat(40), origin: repo }, clean: true }),
      state: new StateDir(mkdtempSync(join(tmpdir(), 'berth-swarm-backoff-'))),
      clock: systemClock,
      env: {},
      log,
      validators,
      files: { git: null, hasher: new FsWorkingTreeHasher() },
      readFile: async () => Buffer.alloc(0),
      pollMs: 10,
    },
  );
  const creates = () => manager.calls.filter((c) => c.startsWith('service.create')).length;
  return { manager, controller, creates, lines };
}

async function pass(controller: SwarmController, reason: string): Promise<void> {
  controller.trigger(reason);
  await settled(controller);
}

/**
 * Until the pass started (by a trigger or a timer) is over: fake time moves on in small
 * steps (the gates' polls), real time lets the pass's file reads finish.
 */
async function settled(controller: SwarmController): Promise<void> {
  const end = performance.now() + 20_000;
  while (performance.now() < end) {
    await vi.advanceTimersByTimeAsync(10);
    await new Promise((r) => setImmediate(r));
    if (!controller.busy()) return;
  }
  throw new Error(`the pass did not end: ${JSON.stringify(controller.status().lastResult)}`);
}

describe('SwarmController: a failed apply waits out its backoff', () => {
  let r: ReturnType<typeof rig>;
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(async () => {
    await r?.controller.stop();
    vi.useRealTimers();
  });

  it('events meanwhile do not retry it; its own pass does, twice as late the second time; converging ends it', async () => {
    r = rig();
    await pass(r.controller, 'startup');
    expect(r.creates()).toBe(1);
    expect(r.controller.status().backoff).toMatchObject({ revision: 'a'.repeat(40), attempts: 1 });

    for (let i = 0; i < 5; i++) await pass(r.controller, 'swarm:service:update');
    expect(r.creates()).toBe(1);
    expect(r.lines.filter((l) => l === 'revision failed before; waiting for its backoff')).toHaveLength(5);

    await vi.advanceTimersByTimeAsync(INTERVAL_MS / 16);
    await settled(r.controller);
    expect(r.creates()).toBe(2);
    expect(r.controller.status().backoff).toMatchObject({ attempts: 2 });

    r.manager.refuseCreate = false;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS / 16);
    await pass(r.controller, 'swarm:service:update');
    expect(r.creates()).toBe(2);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS / 16);
    await settled(r.controller);
    expect(r.creates()).toBe(3);
    expect(r.controller.status().backoff).toBeNull();
    expect(r.controller.status().lastResult?.outcome).toBe('converged');
  });
});
