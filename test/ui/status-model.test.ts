import { describe, expect, it } from 'vitest';
import type { ControllerStatus } from '../../src/loop/controller.js';
import type { HistoryEntry } from '../../src/ports/state.js';
import { dashboardStatus, DriftEventLog, overallSync } from '../../src/ui/status-model.js';

const REV = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const base: ControllerStatus = {
  repo: '/srv/desired',
  branch: 'main',
  ready: true,
  running: false,
  reconciles: 3,
  lastFetched: { revision: REV, at: '2026-12-01T10:00:00.000Z', subject: 'bump web' },
  fetchError: null,
  lastApplied: { revision: REV, at: '2026-12-01T10:00:01.000Z' },
  lastResult: { outcome: 'converged', at: '2026-12-01T10:00:01.000Z', durationMs: 900, revision: REV, errors: [] },
  validationErrors: [],
  backoff: null,
  held: null,
  drift: [],
  stacks: [{ name: 'web', services: [{ name: 'web', state: 'running', health: 'healthy', image: 'app:v2', imageId: 'sha256:abc', revision: REV, containers: 1, replicas: { desired: 1, running: 1 }, summary: 'web 1/1 running' }, { name: 'worker', state: 'running', health: null, containers: 1, replicas: { desired: 1, running: 1 }, summary: 'worker 1/1 running' }] }],
};
const entry: HistoryEntry = { at: '2026-12-01T10:00:01.000Z', revision: REV, result: 'converged', summary: { create: 0, recreate: 1, update: 0, remove: 0 }, failed: [], durationMs: 900, subject: 'bump web', ops: [] };

describe('dashboard status model', () => {
  it('is in sync when the applied revision is the fetched one and nothing runs, drifts or waits', () => {
    const s = dashboardStatus(base, 'host-1', [entry], []);
    expect(s.sync).toBe('in sync');
    expect(s.revision).toEqual({ sha: REV, short: 'a1b2c3d4e5f6', subject: 'bump web' });
    expect(s.stacks[0]!.services.map((x) => x.sync)).toEqual(['in sync', 'in sync']);
    // Deploys carry no per-op detail (that is `history show`).
    expect(s.deploys).toEqual([{ ...entry, ops: undefined }].map(({ ops: _o, ...r }) => r));
    expect(s.host).toBe('host-1');
  });

  it('says changes pending, held or failed, overall and per service', () => {
    expect(overallSync({ ...base, running: true })).toBe('changes pending');
    expect(overallSync({ ...base, lastFetched: { revision: 'new', at: '' } })).toBe('changes pending');
    expect(overallSync({ ...base, ready: false })).toBe('changes pending');
    const drift = { id: 'web/container/web-web-1/stopped', stack: 'web', kind: 'container' as const, object: 'web-web-1', service: 'web', aspect: 'stopped' as const, expected: 'running', found: 'exited' };
    const drifted = dashboardStatus({ ...base, drift: [drift] }, 'h', [], []);
    expect(drifted.sync).toBe('changes pending');
    expect(drifted.stacks[0]!.services.map((x) => [x.sync, x.drift])).toEqual([['changes pending', 1], ['in sync', 0]]);

    const held = dashboardStatus({ ...base, held: { revision: REV, services: ['web/web'] }, lastResult: { ...base.lastResult!, outcome: 'failed', errors: ['web/web: unhealthy'] } }, 'h', [], []);
    expect(held.sync).toBe('held');
    expect(held.stacks[0]!.services[0]!.sync).toBe('held');

    const failed = dashboardStatus({ ...base, lastResult: { ...base.lastResult!, outcome: 'failed', errors: ['web/worker: pull failed'] } }, 'h', [], []);
    expect(failed.sync).toBe('failed');
    expect(failed.stacks[0]!.services.map((x) => x.sync)).toEqual(['in sync', 'failed']);
    expect(overallSync({ ...base, lastResult: { ...base.lastResult!, outcome: 'invalid' } })).toBe('failed');
  });

  it('takes the subject from history when the fetched revision moved on', () => {
    const s = dashboardStatus({ ...base, lastFetched: { revision: 'other', at: '' } }, 'h', [entry], []);
    expect(s.revision?.subject).toBe('bump web');
    expect(dashboardStatus({ ...base, lastApplied: null }, 'h', [], []).revision).toBeNull();
  });

  it('keeps the newest drift events, newest first, bounded', () => {
    const log = new DriftEventLog(3);
    const item = (n: number) => ({ id: `s/container/c${n}/stopped`, stack: 's', kind: 'container' as const, object: `c${n}`, service: `c${n}`, aspect: 'stopped' as const, expected: 'running', found: 'exited' });
    log.record({ appeared: [{ item: item(1), since: 't1' }, { item: item(2), since: 't1' }], resolved: [] });
    log.record({ appeared: [], resolved: [{ item: item(1), since: 't1', at: 't2', resolution: 'fixed' }] });
    log.record({ appeared: [{ item: item(3), since: 't3' }], resolved: [] });
    expect(log.list().map((e) => `${e.change} ${e.id} ${e.resolution ?? ''}`.trim())).toEqual([
      'appeared s/container/c3/stopped',
      'resolved s/container/c1/stopped fixed',
      'appeared s/container/c2/stopped',
    ]);
  });
});
