import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DesiredSource } from '../ports/git.js';

/**
 * Where the desired state was read from, for people: `--repo ../../x` is
 * shown as the directory it resolves to (and where a link there leads), so a
 * plan never comes from an unexpected place unnoticed. A URL is shown as given,
 * credentials redacted.
 */
export function repoWhere(source: Pick<DesiredSource, 'dir' | 'origin'>, remote: boolean): string {
  if (remote) return source.origin;
  const abs = resolve(source.dir);
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    /* missing: the loader reports it */
  }
  return real === abs ? abs : `${abs} (→ ${real})`;
}

/** The first line of `berth plan`: `Desired state: DIR (working tree)` or `… at <commit>`. */
export function desiredStateLine(source: DesiredSource, remote: boolean): string {
  const at = source.revision ? `at ${source.revision.slice(0, 12)}` : '(working tree)';
  return `Desired state: ${repoWhere(source, remote)} ${at}`;
}
