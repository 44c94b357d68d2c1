import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';

/**
 * ENOSPC while writing state (issue 19): the state dir on a real, small
 * tmpfs filled to the last byte. The previous file must survive whole, no
 * temp file may be left holding space, and once space is back writes work and
 * a history line cut short by the full disk does not swallow the next one.
 * (A mount needs root: skipped otherwise. No Docker; e2e only because it mounts.)
 */
const mnt = mkdtempSync(join(tmpdir(), 'berth-enospc-'));
let mounted = false;

beforeAll(() => {
  if (process.getuid?.() !== 0) return;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt]);
    mounted = true;
  } catch {
    mounted = false;
  }
});

afterAll(() => {
  if (mounted) execFileSync('umount', [mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

/** Fill the file system with a filler file until a write fails; returns its path. */
function fill(dir: string, leave = 0): string {
  const filler = join(dir, `filler-${Date.now()}`);
  const free = statfsSync(dir).bavail * statfsSync(dir).bsize;
  try {
    writeFileSync(filler, Buffer.alloc(Math.max(0, free - leave), 0x78));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  return filler;
}

const entry = (r: string) => ({ at: r, revision: r, result: 'converged' as const, summary: { create: 1, recreate: 0, update: 0, remove: 0 }, failed: [], durationMs: 1 });

describe('state dir on a full file system', () => {
  it('a JSON write fails with ENOSPC, the previous file is intact and no temp file is left', async (ctx) => {
    if (!mounted) ctx.skip();
    const dir = join(mnt, 'a');
    const s = new StateDir(dir);
    const before = { revision: 'r1', stacks: [{ name: 'web', services: [] }] };
    await s.writeJson('applied.json', before);
    const filler = fill(dir);
    const big = { revision: 'r2', stacks: Array.from({ length: 2000 }, (_, i) => ({ name: `stack-${i}`, services: [] })) };
    await expect(s.writeJson('applied.json', big)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await s.readJson('applied.json')).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    rmSync(filler);
    await s.writeJson('applied.json', big);
    expect(await s.readJson('applied.json')).toEqual(big);
  });

  it('a history append cut short by the full disk: the good entries stay, the next append after space is back is readable', async (ctx) => {
    if (!mounted) ctx.skip();
    const dir = join(mnt, 'b');
    const reports: string[] = [];
    const s = new StateDir(dir, (d) => reports.push(d.reason));
    await s.appendHistory(entry('a'));
    // leave a few bytes: the append gets partly written, as a real full disk does
    const filler = fill(dir, 0);
    await s.appendHistory(entry('b')).catch((e: NodeJS.ErrnoException) => expect(e.code).toBe('ENOSPC'));
    rmSync(filler);
    await s.appendHistory(entry('c'));
    const revisions = (await s.readHistory(10)).map((h) => h.revision);
    expect(revisions[0]).toBe('a');
    expect(revisions[revisions.length - 1]).toBe('c');
    expect(readFileSync(join(dir, 'history.jsonl'), 'utf8').endsWith('\n')).toBe(true);
  });
});
