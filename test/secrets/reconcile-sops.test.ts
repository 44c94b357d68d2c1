import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';
import { reconcile } from '../../src/loop/reconcile.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DockerPort } from '../../src/ports/docker.js';
import { SopsKeyring } from '../../src/secrets/keyring.js';
import { identitiesOf, vectorBytes } from '../support/sops-vectors.js';
import { tmpRepo } from '../support/tmp-repo.js';

/** Any Docker call fails the test: an invalid commit is decided before Docker is asked anything. */
const noDocker = new Proxy({} as DockerPort, {
  get: (_t, prop) => () => {
    throw new Error(`Docker was called (${String(prop)})`);
  },
});

describe('the controller pass on a commit whose SOPS file does not verify', () => {
  it('is an invalid commit (the outcome berth run reports once to chat, keeping the last good state), before any Docker call', async () => {
    const repo = tmpRepo({
      'stacks/s/compose.yaml': 'services:\n  app:\n    image: berth-test/busybox:1\n    secrets: [db]\nsecrets:\n  db: {file: ./db.enc.yaml}\n',
      'stacks/s/db.enc.yaml': vectorBytes('tampered/secrets.clear-value-changed.enc.yaml'),
    });
    const state = new StateDir(mkdtempSync(join(tmpdir(), 'berth-state-')));
    const secrets = { keyring: new SopsKeyring(identitiesOf('keys.txt')), salt: await state.salt(), materialDir: '/run/berth/unused' };
    const r = await reconcile({ dir: repo, revision: 'abc', origin: repo }, { docker: noDocker, state, clock: systemClock, env: {}, secrets }, 'apply');
    expect(r.outcome).toBe('invalid');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([
      expect.objectContaining({ code: 'sops', file: 'stacks/s/compose.yaml', message: expect.stringMatching(/^stacks\/s\/db\.enc\.yaml: .*MAC does not match/) }),
    ]);
  });
});
