import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStateDir, StateDir } from '../../src/adapters/state-dir.js';

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
});
