import { describe, expect, it } from 'vitest';
import { createValidators } from '../../src/compose/schema.js';
import { recoverLastGood } from '../../src/loop/last-good.js';
import type { GitPort } from '../../src/ports/git.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { StateStore } from '../../src/ports/state.js';
import { SopsKeyring } from '../../src/secrets/keyring.js';
import { identitiesOf, vectorBytes, VECTOR_SECRET_VALUES } from '../support/sops-vectors.js';
import { tmpRepo } from '../support/tmp-repo.js';

const REMOTE = 'https://git.example.invalid/ops.git';

/** The last applied revision's checkout: a stack that reads a SOPS dotenv env_file and mounts a SOPS YAML secret. */
function goodCheckout(): string {
  return tmpRepo({
    'stacks/s/compose.yaml': 'services:\n  app:\n    image: berth-test/busybox:1\n    env_file: [app.enc.env]\n    secrets: [db]\nsecrets:\n  db: {file: ./db.enc.yaml}\n',
    'stacks/s/app.enc.env': vectorBytes('other-key/app.enc.env'),
    'stacks/s/db.enc.yaml': vectorBytes('secrets.enc.yaml'),
  });
}

function deps(dir: string) {
  const fetched: string[] = [];
  const git = {
    fetchRevision: async (url: string, revision: string) => {
      fetched.push(`${url}@${revision}`);
      return { dir, revision, origin: url };
    },
  } as unknown as GitPort;
  const state = { readApplied: async () => ({ revision: 'good1' }) } as unknown as StateStore;
  return { git, state, fetched, env: {}, validators: createValidators(), log: silentLogger };
}

describe('recoverLastGood (a restart while the head is invalid)', () => {
  it('loads the last applied revision with the SOPS identities: its encrypted env_file and secret decrypt, and it is enforced', async () => {
    const d = deps(goodCheckout());
    const keyring = new SopsKeyring([...identitiesOf('keys.txt'), ...identitiesOf('other-key/keys.txt')]);
    const secrets = { keyring, salt: 'salt-1', materialDir: '/run/berth/test-last-good' };
    const got = await recoverLastGood(REMOTE, 'bad-head', { ...d, secrets });
    expect(d.fetched).toEqual([`${REMOTE}@good1`]);
    expect(got).not.toBeNull();
    const svc = got!.desired.stacks[0]!.services[0]!;
    expect(svc.environment.THIS_IS_ENCRYPTED).toBe('yes');
    const db = svc.mounts.find((m) => m.target === '/run/secrets/db');
    expect(db).toMatchObject({ type: 'bind', secret: 'secret db' });
    expect(db?.type === 'bind' && db.source).toMatch(/^\/run\/berth\/test-last-good\/[0-9a-f]{32}\/db\.enc\.yaml$/);
    // The plaintext to materialize travels with the desired state, never in its JSON.
    expect(got!.desired.secretFiles?.paths).toEqual([db?.type === 'bind' ? db.source : '']);
    const json = JSON.stringify(got!.desired);
    for (const v of VECTOR_SECRET_VALUES) expect(json).not.toContain(v);
  });

  it('without identities the same revision does not load, so nothing is enforced (never the ciphertext as values)', async () => {
    const d = deps(goodCheckout());
    expect(await recoverLastGood(REMOTE, 'bad-head', d)).toBeNull();
  });
});
