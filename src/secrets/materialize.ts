import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { FilePerms } from '../model/desired.js';

/** A decrypted file to write: its host path, plaintext, and owner/mode when the Compose file gives them. */
export type MaterialFile = readonly [path: string, plaintext: Buffer, perms?: FilePerms | null];

/**
 * Where decrypted files that containers mount are written. The small
 * interface the repo-files materialization (src/files) can share later:
 * write a set of host paths, sweep what is no longer referenced.
 */
export interface SecretFileStore {
  readonly dir: string;
  /** Write every file (path → plaintext, owner, mode) that is not already there with this content, owner and mode. */
  write(files: readonly MaterialFile[]): Promise<void>;
  /** Remove every file under `dir` not in `keep`, and temporaries a crash left. */
  sweep(keep: ReadonlySet<string>): Promise<void>;
}

const TMP = '.tmp-';

/**
 * Files 0400 in 0700 directories owned by berth, under a dir only berth can
 * read (a container reaches its file through the bind mount, not through
 * these directories, so a file given to another uid stays out of reach of
 * the host's other users). Crash-safe: each file is written to a temporary name and renamed into
 * place, so a path either holds the whole plaintext or does not exist; a
 * temporary a kill -9 left behind is removed by the next write or sweep.
 * Paths are content-addressed (RepoSecrets.mountPath): a file is never
 * rewritten under a running container, only created or removed.
 */
export class DirSecretFileStore implements SecretFileStore {
  constructor(readonly dir: string) {}

  async write(files: readonly MaterialFile[]): Promise<void> {
    if (files.length === 0) return;
    await this.ensureDir(this.dir);
    await this.removeTemporaries();
    for (const [path, plaintext, perms] of files) {
      if (!this.owns(path)) throw new Error(`refusing to write a secret file outside ${this.dir}`);
      const mode = perms?.mode ?? 0o400;
      if (await sameFile(path, plaintext, mode, perms)) continue;
      await this.ensureDir(dirname(path));
      const tmp = join(dirname(path), `${TMP}${randomBytes(6).toString('hex')}`);
      const fh = await open(tmp, 'wx', 0o400);
      try {
        // Owner and mode before the plaintext: the file never holds it under other ones.
        if (perms?.uid !== undefined || perms?.gid !== undefined) {
          await fh.chown(perms.uid ?? -1, perms.gid ?? -1).catch((e: NodeJS.ErrnoException) => {
            throw new Error(`cannot give a decrypted secret file to uid ${perms.uid ?? '-'} gid ${perms.gid ?? '-'} (${e.code ?? e.message}): berth must run as root to honour \`uid\`/\`gid\``);
          });
        }
        await fh.chmod(mode);
        await fh.writeFile(plaintext);
        await fh.sync();
      } catch (e) {
        await fh.close();
        await rm(tmp, { force: true });
        throw e;
      }
      await fh.close();
      await rename(tmp, path);
    }
  }

  async sweep(keep: ReadonlySet<string>): Promise<void> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    for (const digest of entries) {
      const sub = join(this.dir, digest);
      const names = await readdir(sub).catch(() => null);
      if (names === null) continue;
      for (const n of names) if (n.startsWith(TMP) || !keep.has(join(sub, n))) await rm(join(sub, n), { force: true });
      if ((await readdir(sub).catch(() => [])).length === 0) await rm(sub, { recursive: true, force: true });
    }
  }

  private owns(path: string): boolean {
    const r = relative(this.dir, path);
    return r !== '' && !r.startsWith('..') && r.split(sep).length === 2;
  }

  private async removeTemporaries(): Promise<void> {
    for (const digest of await readdir(this.dir).catch(() => [] as string[])) {
      const sub = join(this.dir, digest);
      for (const n of await readdir(sub).catch(() => [] as string[])) if (n.startsWith(TMP)) await rm(join(sub, n), { force: true });
    }
  }

  private async ensureDir(d: string): Promise<void> {
    await mkdir(d, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask, and an existing dir keeps its mode: set it.
    await chmod(d, 0o700);
    if (d === this.dir && dirname(d) !== d) await chmod(dirname(d), 0o700).catch(() => undefined);
  }
}

/** The file is there with this plaintext, mode and owner (someone's chmod/chown by hand is undone). */
async function sameFile(path: string, plaintext: Buffer, mode: number, perms: FilePerms | null | undefined): Promise<boolean> {
  const s = await stat(path).catch(() => null);
  if (!s || !s.isFile() || s.size !== plaintext.length || (s.mode & 0o7777) !== mode) return false;
  if ((perms?.uid !== undefined && s.uid !== perms.uid) || (perms?.gid !== undefined && s.gid !== perms.gid)) return false;
  return (await readFile(path)).equals(plaintext);
}
