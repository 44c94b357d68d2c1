import { afterEach, beforeEach, vi } from 'vitest';
import type { Controller } from '../../src/loop/controller.js';
import type { GitPort } from '../../src/ports/git.js';

/**
 * For controller unit tests: a GitPort for a local repo at `revision()` (clean, no subprocess;
 * nothing remote), and fake timers (setTimeout, Date) with each test's controller stopped after it.
 */
export function localGit(revision: () => string): GitPort {
  return {
    fetch: async () => {
      throw new Error('not remote');
    },
    localRevision: async () => ({ revision: revision(), dirty: false }),
    objectIds: async () => new Map(),
    changedPaths: async () => [],
    readBlob: async () => Buffer.alloc(0),
    readTree: async () => [],
  } as unknown as GitPort;
}

/** Installs the hooks; returns `track`, which marks the controller to stop after the current test. */
export function controllerTimers(): <R extends { controller: Controller }>(rig: R) => R {
  let current: { controller: Controller } | null = null;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: new Date('2026-01-01T00:00:00Z') });
  });
  afterEach(async () => {
    await current?.controller.stop();
    current = null;
    vi.useRealTimers();
  });
  return (rig) => (current = rig);
}
