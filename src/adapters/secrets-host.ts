import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAgeIdentities, type AgeIdentities } from '../secrets/identities.js';

/** Age identities from the environment and key files, as `sops` finds them. */
export function hostAgeIdentities(env: Record<string, string | undefined>): AgeIdentities {
  return loadAgeIdentities(env, (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  });
}

/**
 * Where decrypted files that containers mount live: on tmpfs under
 * /run/berth when this process may write there (plaintext never reaches a
 * disk), else under the state dir. One directory per state dir, so two
 * berth instances on a host never sweep each other's files.
 */
export function secretMaterialDir(stateDir: string): string {
  const id = createHash('sha256').update(stateDir).digest('hex').slice(0, 16);
  const run = '/run/berth';
  const parent = existsSync(run) ? run : '/run';
  try {
    accessSync(parent, constants.W_OK);
    return join(run, id);
  } catch {
    return join(stateDir, 'secrets');
  }
}
