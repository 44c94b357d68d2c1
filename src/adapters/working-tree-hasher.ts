import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HashBudget, WorkingTreeHasher } from '../files/identify.js';

/**
 * Hashes files of a working tree that git cannot name (no checkout, or
 * uncommitted changes). Bounded by the caller's budget, shared across one
 * pass: past it, an error that says what to do, never a silent partial hash.
 */
export class FsWorkingTreeHasher implements WorkingTreeHasher {
  async hash(abs: string, budget: HashBudget): Promise<{ id: string; isDir: boolean }> {
    const st = await lstat(abs).catch(() => null);
    if (!st) return { id: 'absent', isDir: false };
    // The entry's own form carries the executable bit; the id is plain hex, as snapshot names need.
    if (!st.isDirectory()) return { id: `sha256:${createHash('sha256').update(await this.entryHash(abs, budget, abs)).digest('hex')}`, isDir: false };
    const h = createHash('sha256');
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const name of (await readdir(dir)).sort()) {
        if (name === '.git') continue;
        const p = join(dir, name);
        const r = rel ? `${rel}/${name}` : name;
        const s = await lstat(p);
        if (s.isDirectory()) await walk(p, r);
        else h.update(`${r}\0${await this.entryHash(p, budget, abs)}\n`);
      }
    };
    await walk(abs, '');
    return { id: `sha256:${h.digest('hex')}`, isDir: true };
  }

  private async entryHash(p: string, budget: HashBudget, top: string): Promise<string> {
    const s = await lstat(p);
    budget.files -= 1;
    if (s.isSymbolicLink()) return `link:${await readlink(p)}`;
    if (!s.isFile()) return 'special';
    budget.bytes -= s.size;
    if (budget.bytes < 0 || budget.files < 0) {
      throw new Error(
        `${top}: too much to hash without git (past berth's limit of 64 MiB or 20000 files per pass); commit it to a git repository (berth then uses git's object ids) or mount it from outside the repository`,
      );
    }
    const exec = s.mode & 0o111 ? 'x' : '-';
    return `${exec}${createHash('sha256').update(await readFile(p)).digest('hex')}`;
  }
}
