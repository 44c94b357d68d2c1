import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPOSE_FILE_NAMES } from '../compose/load.js';
import { redactUrl } from '../ports/git.js';
import type { ImageRepoPort } from '../ports/image-repo.js';

/** The author of berth's commits: a fixed identity, so a host's git config never leaks into the repository. */
const AUTHOR = ['-c', 'user.name=berth', '-c', 'user.email=berth@localhost'];

/** ImageRepoPort on the git CLI through simple-git. Errors name the remote without its credentials. */
export class GitImageRepo implements ImageRepoPort {
  async checkout(url: string, branch: string): Promise<{ dir: string; revision: string }> {
    const { simpleGit } = await import('simple-git');
    const dir = await mkdtemp(join(tmpdir(), 'berth-images-'));
    try {
      await simpleGit().clone(url, dir, ['--depth', '1', '--branch', branch, '--single-branch', '--no-tags']);
      const revision = (await simpleGit(dir).revparse(['HEAD'])).trim();
      return { dir, revision };
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw this.fail(`cannot check out ${branch} of ${redactUrl(url)}`, e, url);
    }
  }

  async composeFiles(dir: string): Promise<string[]> {
    const root = join(dir, 'stacks');
    if (!existsSync(root)) return [];
    const out: string[] = [];
    for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory()) continue;
      const name = COMPOSE_FILE_NAMES.find((n) => existsSync(join(root, entry.name, n)));
      if (name) out.push(`stacks/${entry.name}/${name}`);
    }
    return out;
  }

  async readFile(dir: string, rev: string, rel: string): Promise<string> {
    const { simpleGit } = await import('simple-git');
    return simpleGit(dir).show([`${rev}:${rel}`]);
  }

  async hasBranch(url: string, branch: string): Promise<boolean> {
    const { simpleGit } = await import('simple-git');
    try {
      const out = await simpleGit().listRemote(['--heads', url, `refs/heads/${branch}`]);
      return out.trim() !== '';
    } catch (e) {
      throw this.fail(`cannot list the branches of ${redactUrl(url)}`, e, url);
    }
  }

  async commitFile(dir: string, base: string, rel: string, text: string, message: string): Promise<string> {
    const { simpleGit } = await import('simple-git');
    const git = simpleGit(dir);
    await git.raw(['checkout', '--quiet', '--detach', base]);
    await writeFile(join(dir, rel), text);
    await git.add([rel]);
    await git.raw([...AUTHOR, 'commit', '--quiet', '--no-verify', '-m', message]);
    return (await git.revparse(['HEAD'])).trim();
  }

  async push(dir: string, url: string, sha: string, branch: string): Promise<void> {
    const { simpleGit } = await import('simple-git');
    try {
      await simpleGit(dir).raw(['push', '--quiet', url, `${sha}:refs/heads/${branch}`]);
    } catch (e) {
      throw this.fail(`cannot push ${branch} to ${redactUrl(url)}`, e, url);
    }
  }

  dispose(dir: string): Promise<void> {
    return rm(dir, { recursive: true, force: true });
  }

  /** git's own message can quote the URL, credentials included: replace every spelling of it. */
  private fail(what: string, e: unknown, url: string): Error {
    const raw = (e as Error).message ?? String(e);
    const clean = raw.split(url).join(redactUrl(url)).replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]+@/gi, '$1***@');
    return new Error(`${what}: ${clean.trim().split('\n').slice(-1)[0]}`);
  }
}
