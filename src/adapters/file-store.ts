import { randomBytes } from 'node:crypto';
import { chmod, cp, lstat, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RepoFileRef } from '../model/desired.js';
import type { GitPort } from '../ports/git.js';
import type { FileMaterializer } from '../files/snapshot.js';

/**
 * The snapshot store of src/files/snapshot.ts on the local file system:
 * committed content comes from git's objects (never from the checkout, which
 * may already hold a later commit), uncommitted content is copied from the
 * working tree. Write into a temporary directory, rename into place.
 */
export class FileStore implements FileMaterializer {
  constructor(
    readonly dir: string,
    private readonly git: Pick<GitPort, 'readBlob' | 'readTree'>,
  ) {}

  async materialize(root: string, ref: RepoFileRef & { id: string }, key: string): Promise<string> {
    const final = join(this.dir, key);
    const content = join(final, 'c');
    if (await exists(final)) return content;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const tmp = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    await mkdir(tmp, { mode: 0o700 });
    try {
      await this.write(root, ref, join(tmp, 'c'));
      if (ref.kind === 'secret') await chmod(tmp, 0o700);
      else await chmod(tmp, 0o755);
      await rename(tmp, final).catch(async (e: NodeJS.ErrnoException) => {
        // Another writer finished the same snapshot first: same bytes, keep theirs.
        if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
        await rm(tmp, { recursive: true, force: true });
      });
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw new Error(`cannot write the snapshot of ${ref.path}: ${(e as Error).message}`);
    }
    return content;
  }

  private async write(root: string, ref: RepoFileRef & { id: string }, dest: string): Promise<void> {
    const secret = ref.kind === 'secret';
    const fileMode = (exec: boolean) => (secret ? 0o400 : exec ? 0o755 : 0o644);
    const [kind, type, oid] = ref.id.split(':') as [string, string, string];
    if (kind === 'git' && type === 'blob') {
      const data = await this.git.readBlob(root, oid);
      const src = await lstat(join(root, ref.path)).catch(() => null);
      await writeFile(dest, data, { mode: fileMode(src !== null && (src.mode & 0o111) !== 0) });
      await chmod(dest, fileMode(src !== null && (src.mode & 0o111) !== 0));
      return;
    }
    if (kind === 'git' && type === 'tree') {
      await mkdir(dest, { mode: secret ? 0o700 : 0o755 });
      for (const f of await this.git.readTree(root, oid)) {
        const p = join(dest, f.path);
        await mkdir(dirname(p), { recursive: true, mode: secret ? 0o700 : 0o755 });
        if (f.mode === '120000') await symlink(f.data.toString('utf8'), p);
        else await writeFile(p, f.data, { mode: fileMode(f.mode === '100755') });
      }
      return;
    }
    // Uncommitted content: a copy of the working tree (links kept as links).
    await cp(join(root, ref.path), dest, { recursive: true, verbatimSymlinks: true, errorOnExist: true });
    if (secret) await chmodTree(dest, 0o400, 0o700);
  }

  async sweep(keep: ReadonlySet<string>): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const tmp = /^\.tmp-(\d+)-/.exec(name);
      if (tmp ? isAlive(Number(tmp[1])) : keep.has(name)) continue;
      await rm(join(this.dir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }
}

async function exists(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => null)) !== null;
}

async function chmodTree(p: string, fileMode: number, dirMode: number): Promise<void> {
  const st = await lstat(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    for (const n of await readdir(p)) await chmodTree(join(p, n), fileMode, dirMode);
    await chmod(p, dirMode);
  } else await chmod(p, fileMode);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
