import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';
import type { ApplyResult } from '../../src/apply/apply.js';
import { buildHistoryEntry, findHistoryEntry } from '../../src/history/entry.js';
import type { Op, Plan } from '../../src/model/plan.js';
import type { HistoryEntry } from '../../src/ports/state.js';
import { runCli } from '../support/cli.js';

const op = (id: string, kind: Op['kind'], action: Op['action'], wave: Op['wave'], object: string, reasons: string[]) =>
  ({ id, kind, action, wave, object, reasons, stack: 'web', after: [] }) as unknown as Op;

const plan: Plan = {
  revision: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  ops: [
    op('network:web_default', 'network.create', 'create', 'networks', 'web_default', ['missing']),
    op('service:web/db', 'service.create', 'create', 'databases', 'web/db', ['missing']),
    op('service:web/web', 'service.recreate', 'recreate', 'apps', 'web/web', ['env GREETING changed (value hidden)']),
    op('service:web/worker', 'service.recreate', 'recreate', 'apps', 'web/worker', ['image changed']),
  ],
  errors: [],
  warnings: [],
  summary: { create: 2, recreate: 2, update: 0, remove: 0 },
};

const applied: ApplyResult = {
  ok: false,
  durationMs: 4200,
  aborted: false,
  pulled: [],
  notApplied: new Set(['web/web']),
  results: [
    { id: 'network:web_default', kind: 'network.create', action: 'create', object: 'web_default', status: 'ok', durationMs: 40 },
    { id: 'service:web/db', kind: 'service.create', action: 'create', object: 'web/db', status: 'ok', durationMs: 900 },
    {
      id: 'service:web/web',
      kind: 'service.recreate',
      action: 'recreate',
      object: 'web/web',
      status: 'failed',
      durationMs: 3000,
      error: 'health check did not pass within 30s',
      rollout: { strategy: 'start-first', result: 'rolled_back', gate: 'health-timeout', lastHealthOutput: 'nope' },
    },
  ],
};

const source = { dir: '/x', origin: '/x', revision: plan.revision, subject: 'greet in French', author: 'Ada <ada@example.org>' };

describe('history entries', () => {
  const entry = buildHistoryEntry(source, plan, applied, new Date('2026-12-01T10:00:00.000Z'));

  it('records commit, result, ops by kind, duration and rollbacks, and each op with its outcome', () => {
    expect(entry).toMatchObject({
      revision: plan.revision,
      subject: 'greet in French',
      author: 'Ada <ada@example.org>',
      result: 'failed',
      durationMs: 4200,
      opsByKind: { 'network.create': 1, 'service.create': 1, 'service.recreate': 2 },
      rollbacks: [{ object: 'web/web', gate: 'health-timeout', result: 'rolled_back' }],
    });
    expect(entry.ops!.map((o) => [o.object, o.status])).toEqual([
      ['web_default', 'ok'],
      ['web/db', 'ok'],
      ['web/web', 'failed'],
      // never reached: the apply stopped before it
      ['web/worker', 'skipped'],
    ]);
    // The health check's output stays out of history (it is the container's, and may carry anything).
    expect(JSON.stringify(entry)).not.toContain('nope');
  });

  it('finds the newest entry of a revision by a prefix of at least 4 characters', () => {
    const older = { ...entry, at: '2026-11-30T00:00:00.000Z' };
    expect(findHistoryEntry([older, entry], 'A1B2C3')).toBe(entry);
    expect(findHistoryEntry([entry], 'a1b')).toBeNull();
    expect(findHistoryEntry([entry], 'ffff')).toBeNull();
  });

  it('berth history and history show print them from the state dir, newest first, old entries too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-history-'));
    const state = new StateDir(dir);
    const old: HistoryEntry = { at: '2026-11-30T09:00:00.000Z', revision: 'ffee0011aabbccdd', result: 'converged', summary: { create: 1, recreate: 0, update: 0, remove: 0 }, failed: [], durationMs: 1000 };
    await state.appendHistory(old);
    await state.appendHistory(entry);
    const env = { BERTH_STATE_DIR: dir };

    const list = await runCli(['history'], env);
    expect(list.code, list.output).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toMatch(/^REVISION\s+TIME\s+RESULT\s+OPS\s+DURATION\s+AUTHOR\s+SUBJECT$/);
    expect(lines[1]).toMatch(/^a1b2c3d4e5f6\s+2026-12-01 10:00:00Z\s+failed, rolled back web\/web \(health-timeout\)\s+2 create, 2 recreate\s+4\.2s\s+Ada <ada@example.org>\s+greet in French$/);
    expect(lines[2]).toMatch(/^ffee0011aabb\s+2026-11-30 09:00:00Z\s+converged\s+1 create\s+1\.0s$/);

    const limited = await runCli(['history', '--limit', '1', '--json'], env);
    const json = JSON.parse(limited.stdout) as HistoryEntry[];
    expect(json.map((e) => e.revision)).toEqual([plan.revision]);
    expect(json[0]).not.toHaveProperty('ops');
    expect((await runCli(['history', '--limit', '0'], env)).code).toBe(1);

    const show = await runCli(['history', 'show', 'a1b2c3d4'], env);
    expect(show.code, show.output).toBe(0);
    expect(show.stdout).toContain('Revision: a1b2c3d4e5f60718293a4b5c6d7e8f9012345678 — greet in French');
    expect(show.stdout).toMatch(/Wave 1 · networks\n\s+\+ web_default\s+create: missing\s+→ ok \(0\.0s\)/);
    expect(show.stdout).toMatch(/~ web\/web\s+recreate \(start-first\): env GREETING changed \(value hidden\)\s+→ rolled back \(health-timeout\)/);
    expect(show.stdout).toMatch(/~ web\/worker\s+recreate: image changed\s+→ skipped/);
    expect(JSON.parse((await runCli(['history', 'show', 'a1b2c3d4', '--json'], env)).stdout)).toEqual(entry);

    const oldShow = await runCli(['history', 'show', 'ffee0011'], env);
    expect(oldShow.stdout).toMatch(/older berth/);
    const missing = await runCli(['history', 'show', 'deadbeef'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no recorded apply/);
  });

  it('history survives a new process (it is a file) and stays bounded in size', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-history-')), 'state');
    const max = 20_000;
    const a = new StateDir(dir, undefined, max);
    for (let i = 0; i < 200; i++) await a.appendHistory({ ...entry, revision: `${i}`.padStart(8, '0') });
    const path = join(dir, 'history.jsonl');
    expect(statSync(path).size).toBeLessThanOrEqual(max);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const b = new StateDir(dir, undefined, max);
    const all = await b.readHistory(Number.MAX_SAFE_INTEGER);
    // The newest entries are the ones kept, in order.
    expect(all.at(-1)!.revision).toBe('00000199');
    const revs = all.map((e) => Number(e.revision));
    expect(revs).toEqual([...revs].sort((x, y) => x - y));
    expect(revs.length).toBeGreaterThan(5);
  });

  it('a line torn by a crash mid-append does not hide the other entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-history-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'history.jsonl'), JSON.stringify(entry) + '\n{"at":"2026-');
    const state = new StateDir(dir);
    expect((await state.readHistory(10)).length).toBe(1);
    await state.appendHistory({ ...entry, revision: 'after-the-crash' });
    expect((await state.readHistory(10)).map((e) => e.revision)).toEqual([plan.revision, 'after-the-crash']);
    expect(readFileSync(join(dir, 'history.jsonl'), 'utf8')).toContain('greet');
  });
});
