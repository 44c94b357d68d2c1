import { describe, expect, it } from 'vitest';
import { combinedDeployStatus, HostsDeployStatuses, type HostMark } from '../../src/forge/hosts-deploy-status.js';
import type { ForgeQueue } from '../../src/forge/queue.js';
import type { ReconcileResult } from '../../src/loop/reconcile.js';
import { DEFAULT_SETTINGS, type DesiredState, type ForgeSpec } from '../../src/model/desired.js';
import type { CommitStatus, ForgePort } from '../../src/ports/forge.js';

/** `berth/deploy` with berth.yaml `hosts:`: one status per commit, over every host. */
const SHA = 'a'.repeat(40);
const NEXT = 'b'.repeat(40);
const forge: ForgeSpec = { type: 'github', url: 'https://api.github.com', repo: 'acme/infra', token: 't' };
const summary = (create: number, recreate = 0) => ({ create, recreate, update: 0, remove: 0 });

function result(sha: string, outcome: ReconcileResult['outcome'], opts: { create?: number; failed?: string } = {}): ReconcileResult {
  const applied = outcome === 'converged' || outcome === 'failed';
  return {
    outcome,
    source: { dir: '/x', revision: sha, origin: 'o' },
    diagnostics: [],
    desired: { settings: { ...DEFAULT_SETTINGS, forge } } as DesiredState,
    live: null,
    applied: null,
    plan: { revision: sha, ops: [], errors: [], warnings: [], summary: summary(opts.create ?? 0) },
    held: [],
    apply: applied
      ? { ok: outcome === 'converged', durationMs: 1, results: opts.failed ? [{ object: opts.failed, status: 'failed', durationMs: 1, error: 'boom' }] : [] }
      : null,
    durationMs: 1,
  } as unknown as ReconcileResult;
}

function recorder(hosts: string[]) {
  const sent: CommitStatus[] = [];
  const port = { type: 'github', setStatus: async (s: CommitStatus) => void sent.push(s) } as unknown as ForgePort;
  const queue = { enqueue: (t: { run: () => Promise<unknown> }) => void t.run() } as unknown as ForgeQueue;
  const statuses = new HostsDeployStatuses(queue, () => port, null, () => hosts);
  const seen = () => sent.map((s) => `${s.sha.slice(0, 1)} ${s.state}: ${s.description}`);
  return { statuses, seen };
}

describe('combinedDeployStatus', () => {
  const marks = (m: Record<string, HostMark>) => new Map(Object.entries(m));

  it('is pending while a host applies or has not passed the commit yet', () => {
    expect(combinedDeployStatus(SHA, ['app-1', 'db-1'], marks({ 'app-1': { state: 'success', summary: summary(1) } }), null)).toMatchObject({
      state: 'pending',
      description: 'deploying on db-1 (1 of 2 hosts done)',
    });
    expect(combinedDeployStatus(SHA, ['app-1', 'db-1'], marks({ 'app-1': { state: 'pending' }, 'db-1': { state: 'failure', description: 'x' } }), null).description).toBe(
      'deploying on app-1 (1 of 2 hosts done; failed on db-1)',
    );
  });

  it('fails naming every host that failed, with the first one\'s reason, once no host is pending', () => {
    const s = combinedDeployStatus(SHA, ['app-1', 'db-1', 'db-2'], marks({ 'app-1': { state: 'success', summary: summary(1) }, 'db-1': { state: 'failure', description: 'connect ECONNREFUSED' }, 'db-2': { state: 'failure', description: 'y' } }), 'https://b/');
    expect(s).toEqual({ sha: SHA, context: 'berth/deploy', state: 'failure', description: 'failed on db-1, db-2: connect ECONNREFUSED; deployed on app-1', targetUrl: 'https://b/' });
  });

  it('succeeds once every host converged, with the counts of all hosts, and stays within the forge\'s 140 characters', () => {
    const s = combinedDeployStatus(SHA, ['app-1', 'db-1'], marks({ 'app-1': { state: 'success', summary: summary(2, 1) }, 'db-1': { state: 'success', summary: null } }), null);
    expect(s).toMatchObject({ state: 'success', description: 'deployed on app-1, db-1: 2 created, 1 recreated, 0 updated, 0 removed' });
    const long = combinedDeployStatus(SHA, ['h'], marks({ h: { state: 'failure', description: 'z'.repeat(500) } }), null);
    expect(long.description.length).toBe(140);
  });
});

describe('HostsDeployStatuses', () => {
  it('pending while any host applies, failure naming the host that was down, success once it is back and converged', () => {
    const { statuses, seen } = recorder(['app-1', 'db-1']);
    statuses.applying('app-1', SHA, forge);
    statuses.failed('db-1', SHA, 'connect ECONNREFUSED 10.0.0.7:2375');
    statuses.reconciled('app-1', result(SHA, 'converged', { create: 1 }));
    statuses.reconciled('db-1', result(SHA, 'in-sync'));
    expect(seen()).toEqual([
      'a pending: deploying on app-1, db-1 (0 of 2 hosts done)',
      'a pending: deploying on app-1 (1 of 2 hosts done; failed on db-1)',
      'a failure: failed on db-1: connect ECONNREFUSED 10.0.0.7:2375; deployed on app-1',
      'a success: deployed on app-1, db-1: 1 created, 0 recreated, 0 updated, 0 removed',
    ]);
  });

  it('says nothing about a commit no host had to change (as on one host); an apply failure names the host and object', () => {
    const { statuses, seen } = recorder(['app-1', 'db-1']);
    statuses.reconciled('app-1', result(SHA, 'in-sync'));
    statuses.reconciled('db-1', result(SHA, 'in-sync'));
    expect(seen()).toEqual([]);
    statuses.applying('db-1', NEXT, forge);
    statuses.reconciled('db-1', result(NEXT, 'failed', { failed: 'data/db' }));
    statuses.reconciled('app-1', result(NEXT, 'in-sync'));
    expect(seen().at(-1)).toBe('b failure: failed on db-1: failed: data/db; deployed on app-1');
  });

  it('a no-op pass after the apply keeps its outcome: the counts, or a failure (a rolled-back rollout is held, not deployed)', () => {
    const { statuses, seen } = recorder(['app-1', 'db-1']);
    statuses.applying('app-1', SHA, forge);
    statuses.reconciled('app-1', result(SHA, 'converged', { create: 2 }));
    statuses.reconciled('app-1', result(SHA, 'in-sync'));
    statuses.applying('db-1', SHA, forge);
    statuses.reconciled('db-1', result(SHA, 'failed', { failed: 'data/db' }));
    statuses.reconciled('db-1', result(SHA, 'in-sync'));
    expect(seen().at(-1)).toBe('a failure: failed on db-1: failed: data/db; deployed on app-1');
    statuses.reconciled('db-1', result(SHA, 'converged', { create: 1 }));
    expect(seen().at(-1)).toBe('a success: deployed on app-1, db-1: 3 created, 0 recreated, 0 updated, 0 removed');
  });

  it('a host that went on to a newer commit no longer holds the older one pending', () => {
    const { statuses, seen } = recorder(['app-1', 'db-1']);
    statuses.applying('app-1', SHA, forge);
    statuses.reconciled('app-1', result(SHA, 'converged', { create: 1 }));
    statuses.reconciled('db-1', result(NEXT, 'in-sync'));
    expect(seen()).toContain('a success: deployed on app-1: 1 created, 0 recreated, 0 updated, 0 removed; db-1 went on to a newer commit');
  });
});
