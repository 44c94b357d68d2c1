import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStateDir, StateDir, type DamagedStateReport } from '../../src/adapters/state-dir.js';

describe('StateDir', () => {
  const dir = () => join(mkdtempSync(join(tmpdir(), 'berth-state-')), 'state');

  it('resolves the state dir like the contract says', () => {
    expect(defaultStateDir({ BERTH_STATE_DIR: '/x' })).toBe('/x');
    expect(defaultStateDir({ XDG_STATE_HOME: '/y' })).toBe('/y/berth');
    expect(defaultStateDir({})).toMatch(/\.local\/state\/berth$/);
  });

  it('writes records atomically with mode 0600 and reads them back', async () => {
    const s = new StateDir(dir());
    expect(await s.readApplied()).toBeNull();
    await s.writeJson('applied.json', { revision: 'r1' });
    expect(await s.readJson('applied.json')).toEqual({ revision: 'r1' });
    expect(statSync(join(s.dir, 'applied.json')).mode & 0o777).toBe(0o600);
    expect(await s.salt()).toBe(await s.salt());
  });

  it('reads applied.json again whenever another process replaces it, and not otherwise', async () => {
    const d = dir();
    const s = new StateDir(d);
    const record = (revision: string) => ({ revision, appliedAt: '2026-01-01T00:00:00.000Z', source: '.', salt: 'x', stacks: [] });
    await s.writeApplied(record('r1'));
    const first = await s.readApplied();
    expect(first).toEqual(record('r1'));
    expect(await s.readApplied()).toBe(first);
    // Another berth (or a person) writes the file: the next read sees it.
    await new StateDir(d).writeApplied(record('r2'));
    expect(await s.readApplied()).toEqual(record('r2'));
    writeFileSync(join(d, 'applied.json'), JSON.stringify(record('r3')));
    expect(await s.readApplied()).toEqual(record('r3'));
  });

  it('keeps history in order and returns the last entries', async () => {
    const s = new StateDir(dir());
    for (const r of ['a', 'b', 'c']) await s.appendHistory({ at: r, revision: r, result: 'converged', summary: { create: 0, recreate: 0, update: 0, remove: 0 }, failed: [], durationMs: 1 });
    expect((await s.readHistory(2)).map((h) => h.revision)).toEqual(['b', 'c']);
  });

  it('holds one apply lock at a time and takes over a stale one', async () => {
    const s = new StateDir(dir());
    const release = await s.lock();
    // Same process: a second lock is refused only for another live pid, so fake one.
    writeFileSync(join(s.dir, 'apply.lock'), '1');
    await expect(s.lock()).rejects.toThrow(/pid 1/);
    writeFileSync(join(s.dir, 'apply.lock'), '999999999');
    const again = await s.lock();
    await again();
    await release();
  });

  describe('damaged state files (issue 19): reported once, read as absent, never a crash loop', () => {
    const entry = (r: string) => ({ at: r, revision: r, result: 'converged' as const, summary: { create: 0, recreate: 0, update: 0, remove: 0 }, failed: [], durationMs: 1 });
    const damaged = () => {
      const seen: Parameters<DamagedStateReport>[0][] = [];
      const d = dir();
      mkdirSync(d, { recursive: true });
      return { s: new StateDir(d, (x) => seen.push(x)), seen, d };
    };
    const good = JSON.stringify({ revision: 'r1', stacks: [] }, null, 2);

    for (const [what, text] of [
      ['truncated', good.slice(0, good.length / 2)],
      ['garbage', '\u0000\u0000\u00ff\u00fe not json'],
      ['empty', ''],
    ] as const) {
      for (const name of ['applied.json', 'drift.json', 'held.json']) {
        it(`${what} ${name}`, async () => {
          const { s, seen, d } = damaged();
          writeFileSync(join(d, name), text);
          const read = () => (name === 'applied.json' ? s.readApplied() : s.readJson(name));
          expect(await read()).toBeNull();
          expect(await read()).toBeNull();
          expect(seen).toHaveLength(1);
          expect(seen[0]!.file).toBe(join(d, name));
          expect(readdirSync(d).filter((f) => f.startsWith(`${name}.damaged-`))).toHaveLength(1);
          // kept for a post-mortem, byte for byte
          expect(readFileSync(seen[0]!.movedTo!, 'utf8')).toBe(text);
          // and written anew as usual
          await s.writeJson(name, { stacks: [] });
          expect(await s.readJson(name)).toEqual({ stacks: [] });
          expect(seen).toHaveLength(1);
        });
      }
    }

    it('an applied.json that parses but is no applied record', async () => {
      const { s, seen } = damaged();
      await s.writeJson('applied.json', [1, 2, 3]);
      expect(await s.readApplied()).toBeNull();
      expect(seen.map((x) => x.reason)).toEqual(['not an applied record (no stacks list)']);
    });

    it('history.jsonl with a garbage line and a truncated last line keeps the good entries; the next entry is not swallowed', async () => {
      const { s, seen, d } = damaged();
      for (const r of ['a', 'b']) await s.appendHistory(entry(r));
      const path = join(d, 'history.jsonl');
      writeFileSync(path, readFileSync(path, 'utf8') + 'garbage\n' + JSON.stringify(entry('c')).slice(0, 20));
      await s.appendHistory(entry('d'));
      expect((await s.readHistory(10)).map((h) => h.revision)).toEqual(['a', 'b', 'd']);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.reason).toMatch(/2 unreadable line\(s\) dropped, 3 kept/);
      expect((await s.readHistory(10)).map((h) => h.revision)).toEqual(['a', 'b', 'd']);
      expect(seen).toHaveLength(1);
    });

    it('a failed write leaves the previous file and no temp file', async () => {
      const { s, d } = damaged();
      await s.writeJson('drift.json', { v: 1 });
      // a value JSON.stringify cannot write stands in for the disk failing mid-write
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(s.writeJson('drift.json', cyclic)).rejects.toThrow();
      expect(await s.readJson('drift.json')).toEqual({ v: 1 });
      expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  });
});
