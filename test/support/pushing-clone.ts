import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** git in the test's working clone, as a throwaway author. */
export function gitIn(work: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: work, encoding: 'utf8' }).trim();
}

/** Write `files` into the clone, commit them, push to origin main: the way a user changes what `berth run` watches. Returns the commit. */
export function commitAndPush(work: string, message: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  gitIn(work, 'add', '-A');
  gitIn(work, 'commit', '-qm', message);
  gitIn(work, 'push', '-q', 'origin', 'main');
  return gitIn(work, 'rev-parse', 'HEAD');
}

/**
 * A bare remote (`<base>/remote.git`, branch main) and a working clone of it
 * (`<base>/work`) to author commits in. `berth run --repo <url>` follows the
 * remote: it sees a commit only once it is pushed, never a half-written work
 * tree (a local `--repo DIR` is watched, and a pass between the test's file
 * writes and its `git commit` deploys the dirty tree under another revision).
 */
export function pushingClone(base: string): { work: string; bare: string; url: string } {
  const bare = join(base, 'remote.git');
  const work = join(base, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  gitIn(work, 'remote', 'add', 'origin', bare);
  return { work, bare, url: `file://${bare}` };
}
