import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { redactUrl, type DesiredSource, type GitPort } from '../ports/git.js';

export { redactUrl };

/**
 * Remote desired-state repositories are kept as shallow single-branch clones
 * under `<cacheDir>/<hash of url>`, fetched with `--depth 1 --prune` and
 * reset hard, so the clone stays the size of one commit however long berth
 * runs (`git gc --auto` drops what fetches leave behind).
 */
export class SimpleGitPort implements GitPort {
  constructor(private readonly cacheDir: string) {}

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

function redactGitMessage(msg: string, url: string): string {
  return msg.split(url).join(redactUrl(url)).trim().split('\n').slice(-3).join(' ');
}
