import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The repository root: the nearest directory above this file with a
 * package.json (this file is test/support/shared-dir.ts, and the benches run
 * its build as dist/test/support/shared-dir.js, one level deeper).
 */
export const REPO_ROOT = repoRoot(import.meta.dirname);

function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/**
 * `../shared/<rel>` from the repository root, as CI lays it out (the repo
 * cloned next to `shared/`). In a git worktree the checkout sits elsewhere,
 * so the main checkout's sibling is tried too (found through the `.git`
 * file of the worktree, without running git). null when neither exists.
 */
export function sharedPath(rel: string): string | null {
  const direct = resolve(REPO_ROOT, '..', 'shared', rel);
  if (existsSync(direct)) return direct;
  const dotGit = resolve(REPO_ROOT, '.git');
  if (existsSync(dotGit) && statSync(dotGit).isFile()) {
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
    if (m) {
      // <main>/.git/worktrees/<name> → <main>
      const main = dirname(dirname(dirname(resolve(REPO_ROOT, m[1]!.trim()))));
      const viaMain = resolve(main, '..', 'shared', rel);
      if (existsSync(viaMain)) return viaMain;
    }
  }
  return null;
}
