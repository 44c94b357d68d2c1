import { loadDesiredState, type LoadOptions, type LoadResult } from './load.js';

/**
 * loadDesiredState with SOPS files decrypted. The loader is synchronous and
 * age unwrapping is not, so: load once (the keyring notes every data key it
 * has not unwrapped yet), unwrap those, load again. With a keyring that has
 * seen the files before (the controller keeps one) the first pass is the only one.
 * Without `secrets` it is the plain load (an encrypted file is refused: no identity).
 * Every load of a pass goes through here (reconcile, the last good revision
 * after a restart), so none of them can forget the identities.
 */
export async function loadDesiredStateWithSecrets(repoDir: string, opts: LoadOptions): Promise<LoadResult> {
  const first = loadDesiredState(repoDir, opts);
  if (!opts.secrets || !first.secrets.pending || !opts.secrets.keyring.hasPending) return first;
  await opts.secrets.keyring.unwrapPending();
  return loadDesiredState(repoDir, opts);
}
