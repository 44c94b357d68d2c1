import { loadDesiredStateWithSecrets } from '../compose/load-secrets.js';
import type { LoadOptions } from '../compose/load.js';
import type { DesiredState } from '../model/desired.js';
import { isRemoteRepo, type DesiredSource, type GitPort } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { StateStore } from '../ports/state.js';

export interface LastGood {
  source: DesiredSource;
  desired: DesiredState;
}

/**
 * The last good desired state after a restart, when the branch head is
 * invalid: the revision of the applied record, fetched from the remote again
 * and loaded. Without it a berth restarted (crash, reboot) while an invalid
 * commit is at the head could neither self-heal nor report drift until
 * someone pushed a fix. Null when there is nothing to recover (no record, a
 * local repo, the record is of the head itself, or it does not load).
 */
export async function recoverLastGood(
  repo: string,
  head: string | null,
  // The load options of the controller's passes (SOPS identities included): the last good revision must load exactly as it did when applied.
  deps: { git: GitPort; state: StateStore; env: Record<string, string | undefined>; log: Logger } & Pick<LoadOptions, 'validators' | 'secrets' | 'refuseHosts'>,
): Promise<LastGood | null> {
  if (!isRemoteRepo(repo) || !deps.git.fetchRevision) return null;
  const applied = await deps.state.readApplied().catch(() => null);
  const revision = applied?.revision;
  if (!revision || revision === head) return null;
  try {
    const source = await deps.git.fetchRevision(repo, revision);
    const { state } = await loadDesiredStateWithSecrets(source.dir, { env: deps.env, validators: deps.validators, secrets: deps.secrets, refuseHosts: deps.refuseHosts });
    if (!state) return null;
    deps.log.info({ revision }, 'the head is invalid; enforcing the last applied revision again (fetched from the remote)');
    return { source, desired: state };
  } catch (e) {
    deps.log.warn({ revision, err: (e as Error).message }, 'cannot recover the last applied revision; nothing is enforced until a valid commit');
    return null;
  }
}
