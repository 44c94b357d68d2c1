import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { redactUrl, type DesiredSource, type GitObject, type GitPort } from '../ports/git.js';
import { parseLsTree, parseNulList, readTar } from './git-output.js';

export { redactUrl };

/**
 * Remote desired-state repositories are kept as shallow single-branch clones
 * under `<cacheDir>/<hash of url>`, fetched with `--depth 1 --prune` and
 * reset hard, so the clone stays the size of one commit however long berth
 * runs (`git gc --auto` drops what fetches leave behind).
 */
export class SimpleGitPort implements GitPort {
  /** `git ls-tree` answers by directory, revision and path set: a commit's objects never change. Small, bounded. */
  private readonly objectCache = new Map<string, Map<string, GitObject>>();

  constructor(private readonly cacheDir: string) {}

  async objectIds(dir: string, revision: string, paths: string[]): Promise<Map<string, GitObject>> {
    const sorted = [...new Set(paths)].sort();
    const key = `${dir}\0${revision}\0${sorted.join('\0')}`;
    const hit = this.objectCache.get(key);
    if (hit) return hit;
    const out = sorted.length === 0 ? '' : await gitBytes(dir, ['ls-tree', '-z', revision, '--', ...sorted]).then((b) => b.toString('utf8'));
    const result = parseLsTree(out);
    if (this.objectCache.size >= 16) this.objectCache.delete(this.objectCache.keys().next().value!);
    this.objectCache.set(key, result);
    return result;
  }

  async changedPaths(dir: string, paths: string[]): Promise<Set<string>> {
    if (paths.length === 0) return new Set();
    // Both print paths relative to `dir` (porcelain status would print them from the repository's top).
    const [diff, untracked] = await Promise.all([
      gitBytes(dir, ['diff', '--name-only', '-z', '--relative', 'HEAD', '--', ...paths]),
      gitBytes(dir, ['ls-files', '--others', '--exclude-standard', '-z', '--', ...paths]),
    ]);
    const changed = [...parseNulList(diff.toString('utf8')), ...parseNulList(untracked.toString('utf8'))];
    return new Set(paths.filter((p) => changed.some((c) => c === p || c.startsWith(`${p}/`))));
  }

  readBlob(dir: string, oid: string): Promise<Buffer> {
    return gitBytes(dir, ['cat-file', 'blob', oid]);
  }

  async readTree(dir: string, oid: string): Promise<{ path: string; mode: string; data: Buffer }[]> {
    return readTar(await gitBytes(dir, ['archive', '--format=tar', oid]));
  }

  async fetch(url: string, branch: string): Promise<DesiredSource> {
    const dir = join(this.cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 16));
    await mkdir(this.cacheDir, { recursive: true });
    const cloned = existsSync(join(dir, '.git'));
    // simple-git loads on first fetch: plan/apply on a local directory never need it.
    const { simpleGit } = await import('simple-git');
    try {
      if (!cloned) {
        await simpleGit().clone(url, dir, ['--depth', '1', '--branch', branch, '--single-branch', '--no-tags']);
      } else {
        const git = simpleGit(dir);
        await git.fetch(['--depth', '1', '--prune', '--no-tags', 'origin', branch]);
        await git.reset(['--hard', 'FETCH_HEAD']);
        await git.clean('f', ['-d', '-x']);
        await git.raw(['gc', '--auto', '--quiet']);
      }
    } catch (e) {
      if (!cloned) await rm(dir, { recursive: true, force: true });
      throw new Error(`git fetch ${redactUrl(url)} (${branch}) failed: ${redactGitMessage((e as Error).message, url)}`);
    }
    const info = await this.localRevision(dir);
    return { dir, revision: info?.revision ?? null, origin: redactUrl(url), subject: info?.subject, author: info?.author };
  }

  async fetchRevision(url: string, revision: string): Promise<DesiredSource> {
    return this.fetchDetached(url, revision, 'revision', revision.slice(0, 12));
  }

  /**
   * A pull request's head (refs/pull/N/head…) into a directory of its own,
   * emptied first: one preview at a time uses it (the preview runner is
   * serial), so it holds one commit however many requests come.
   */
  async fetchRef(url: string, ref: string): Promise<DesiredSource> {
    return this.fetchDetached(url, ref, 'preview', ref);
  }

  private async fetchDetached(url: string, what: string, slot: string, label: string): Promise<DesiredSource> {
    const dir = join(this.cacheDir, `${createHash('sha256').update(url).digest('hex').slice(0, 16)}-${slot}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const { simpleGit } = await import('simple-git');
    try {
      const git = simpleGit(dir);
      await git.init();
      await git.raw(['fetch', '--depth', '1', '--no-tags', url, what]);
      await git.raw(['checkout', '-q', '--detach', 'FETCH_HEAD']);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`git fetch ${redactUrl(url)} (${label}) failed: ${redactGitMessage((e as Error).message, url)}`);
    }
    const info = await this.localRevision(dir);
    return { dir, revision: info?.revision ?? null, origin: redactUrl(url), subject: info?.subject, author: info?.author };
  }

  /** Two plain `git` calls: cheaper than loading simple-git for a read. */
  async localRevision(dir: string): Promise<{ revision: string; subject: string; author: string; dirty: boolean } | null> {
    const git = (args: string[]) =>
      new Promise<string | null>((resolve) =>
        execFile('git', args, { cwd: dir, timeout: 10_000 }, (err, stdout) => resolve(err ? null : stdout)),
      );
    // Only changes under this directory make its state differ from the commit.
    const [log, porcelain] = await Promise.all([git(['log', '-1', '--format=%H%x00%an%x00%s']), git(['status', '--porcelain', '--', '.'])]);
    if (!log) return null;
    const [revision = '', author = '', subject = ''] = log.trim().split('\0');
    if (!/^[0-9a-f]{40,64}$/.test(revision)) return null;
    return { revision, subject, author, dirty: (porcelain ?? '').trim() !== '' };
  }
}

/** Bounded (256 MiB): a repository file larger than that is not a config file. */
function gitBytes(dir: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    execFile('git', args, { cwd: dir, timeout: 60_000, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args[0]} failed: ${stderr.toString('utf8').trim().split('\n').slice(-2).join(' ') || err.message}`));
      else resolve(stdout);
    }),
  );
}

function redactGitMessage(msg: string, url: string): string {
  return msg.split(url).join(redactUrl(url)).trim().split('\n').slice(-3).join(' ');
}
