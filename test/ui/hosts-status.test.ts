import { describe, expect, it } from 'vitest';
import type { ControllerStatus } from '../../src/loop/controller.js';
import { hostsDashboardStatus, type HostPart } from '../../src/ui/hosts-status.js';

const base = (over: Partial<ControllerStatus> = {}): ControllerStatus => ({
  repo: '/repo',
  branch: 'main',
  ready: true,
  running: false,
  reconciles: 1,
  lastFetched: { revision: 'r1', at: '2026-01-01T00:00:00Z' },
  fetchError: null,
  lastApplied: { revision: 'r1', at: '2026-01-01T00:00:01Z' },
  lastResult: { outcome: 'in-sync', at: '2026-01-01T00:00:01Z', durationMs: 5, revision: 'r1', errors: [] },
  validationErrors: [],
  backoff: null,
  held: null,
  drift: [],
  stacks: [],
  ...over,
});
const svc = { name: 'app', state: 'running', health: null, replicas: { desired: 1, running: 1 }, summary: 'app 1/1 running' };
const part = (name: string, status: ControllerStatus, up: boolean | null = true): HostPart => ({ name, docker: `unix:///${name}.sock`, up, error: up === false ? 'connect ENOENT' : null, status, history: [] });
const shared = { repo: '/repo', branch: 'main', lastFetched: { revision: 'r1', at: '2026-01-01T00:00:00Z' }, fetchError: null, ready: true };

describe('/api/status with berth.yaml hosts:', () => {
  it('sums the hosts into the one-host fields, each stack with its host, and lists every host', () => {
    const s = hostsDashboardStatus('berth-1', shared, [part('app-1', base({ stacks: [{ name: 'web', services: [svc] }] })), part('db-1', base({ stacks: [{ name: 'data', services: [svc] }] }))], []);
    expect(s.sync).toBe('in sync');
    expect(s.revision?.sha).toBe('r1');
    expect(s.stacks.map((st) => [st.name, st.host])).toEqual([
      ['web', 'app-1'],
      ['data', 'db-1'],
    ]);
    expect(s.hosts.map((h) => [h.host, h.up, h.sync, h.stacks])).toEqual([
      ['app-1', true, 'in sync', ['web']],
      ['db-1', true, 'in sync', ['data']],
    ]);
  });

  it('a host that is down is failed, and so is the whole; its error is named; revisions that differ are not summed into one', () => {
    const down = base({ lastApplied: { revision: 'r0', at: '2026-01-01T00:00:00Z' }, lastResult: { outcome: 'error', at: '2026-01-01T00:00:02Z', durationMs: 1, revision: 'r1', errors: ['connect ENOENT'] } });
    const s = hostsDashboardStatus('berth-1', shared, [part('app-1', base()), part('db-1', down, false)], []);
    expect(s.sync).toBe('failed');
    expect(s.revision).toBeNull();
    expect(s.lastResult?.errors).toEqual(['db-1: connect ENOENT']);
    expect(s.hosts[1]).toMatchObject({ host: 'db-1', up: false, sync: 'failed', error: 'connect ENOENT' });
    expect(s.hosts[0]).toMatchObject({ host: 'app-1', up: true, sync: 'in sync', error: null });
  });
});
