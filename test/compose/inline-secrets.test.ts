import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactService } from '../../src/apply/applied-record.js';
import { specDifferences } from '../../controllers/service.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { SopsKeyring } from '../../src/secrets/keyring.js';
import { DirSecretFileStore } from '../../src/secrets/materialize.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const SECRET = 'fixture-secret-inline-42';

const COMPOSE = `services:
  app:
    image: berth-test/busybox:1
    secrets:
      - token
      - source: token
        target: /etc/token
        uid: "1005"
        gid: "1006"
        mode: 0440
    configs:
      - greeting
      - source: from_env
        target: /etc/from_env
configs:
  greeting:
    content: |
      hello \${WHO}
  from_env:
    environment: WHO
secrets:
  token:
    environment: TOKEN
`;

function load(files: Record<string, string>, env: Record<string, string>, materialDir = '/run/berth/test') {
  return loadDesiredState(tmpRepo(files), { env, validators, secrets: { keyring: new SopsKeyring([]), salt: 'salt-1', materialDir } });
}

describe('secrets and configs from `environment:` and `content:`', () => {
  it('are mounted read-only from materialized files; content is interpolated; the values are in no JSON of the state', () => {
    const r = load({ 'stacks/s/compose.yaml': COMPOSE }, { TOKEN: SECRET, WHO: 'world' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const svc = r.state!.stacks[0]!.services[0]!;
    const byTarget = new Map(svc.mounts.map((m) => [m.target, m]));
    expect(byTarget.get('/run/secrets/token')).toMatchObject({ type: 'bind', readOnly: true, secret: 'secret token' });
    expect(byTarget.get('/etc/token')).toMatchObject({ type: 'bind', readOnly: true, secret: 'secret token' });
    expect(byTarget.get('/greeting')).toMatchObject({ type: 'bind', secret: 'config greeting' });
    const files = new Map(r.state!.secretFiles!.entries().map(([p, b, perm]) => [p, { text: b.toString(), perm }]));
    const at = (t: string) => files.get((byTarget.get(t) as { source: string }).source)!;
    expect(at('/run/secrets/token')).toEqual({ text: SECRET, perm: { mode: 0o444, uid: 0, gid: 0 } });
    // Another owner and mode: another file.
    expect(at('/etc/token')).toEqual({ text: SECRET, perm: { mode: 0o440, uid: 1005, gid: 1006 } });
    expect(at('/greeting').text).toBe('hello world\n');
    expect(at('/etc/from_env').text).toBe('world');
    expect(JSON.stringify(r.state)).not.toContain(SECRET);
    expect(JSON.stringify(r.diagnostics)).not.toContain(SECRET);
  });

  it('a changed value recreates with the reason "secret token changed (value hidden)"', () => {
    const before = load({ 'stacks/s/compose.yaml': COMPOSE }, { TOKEN: SECRET, WHO: 'world' }).state!.stacks[0]!.services[0]!;
    const after = load({ 'stacks/s/compose.yaml': COMPOSE }, { TOKEN: `${SECRET}-rotated`, WHO: 'world' }).state!.stacks[0]!.services[0]!;
    expect(after.configHash).not.toBe(before.configHash);
    expect(specDifferences(redactService(before, 's'), after, 's')).toEqual(['secret token changed (value hidden)']);
    const same = load({ 'stacks/s/compose.yaml': COMPOSE }, { TOKEN: SECRET, WHO: 'world' }).state!.stacks[0]!.services[0]!;
    expect(same.configHash).toBe(before.configHash);
  });

  it('an unset variable, a bad mode and a bad uid are located errors (Compose refuses the unset variable too)', () => {
    const unset = load({ 'stacks/s/compose.yaml': COMPOSE }, { WHO: 'world' });
    expect(unset.state).toBeNull();
    expect(unset.diagnostics.filter((d) => d.severity === 'error')).toEqual([
      expect.objectContaining({ file: 'stacks/s/compose.yaml', line: 23, col: 18, code: 'secret-environment', message: 'environment variable "TOKEN" required by secret "token" is not set' }),
    ]);
    const bad = load({ 'stacks/s/compose.yaml': COMPOSE.replace('mode: 0440', 'mode: 0999').replace('uid: "1005"', 'uid: "app"') }, { TOKEN: SECRET, WHO: 'w' });
    expect(bad.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line} ${d.code}`)).toEqual(['8 invalid-secret-uid', '10 invalid-secret-mode']);
    expect(JSON.stringify(bad.diagnostics)).not.toContain(SECRET);
  });

  it("an included declaration reads its variable from the include's env_file", () => {
    const r = load(
      {
        'stacks/s/compose.yaml': 'include:\n  - path: child/compose.yaml\n    env_file: [secret.env]\nservices:\n  main:\n    image: berth-test/busybox:1\n',
        'stacks/s/secret.env': `MY_SECRET='${SECRET}'\n`,
        'stacks/s/child/compose.yaml': 'services:\n  included:\n    image: berth-test/busybox:1\n    secrets: [my-secret]\nsecrets:\n  my-secret:\n    environment: MY_SECRET\n',
      },
      {},
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const [, bytes] = r.state!.secretFiles!.entries()[0]!;
    expect(bytes.toString()).toBe(SECRET);
  });

  it('the store writes each file with its owner and mode', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-inline-')), 'secrets');
    const r = load({ 'stacks/s/compose.yaml': COMPOSE }, { TOKEN: SECRET, WHO: 'world' }, dir);
    const store = new DirSecretFileStore(dir);
    await store.write(r.state!.secretFiles!.entries());
    for (const [path, bytes, perm] of r.state!.secretFiles!.entries()) {
      const st = statSync(path);
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([perm!.mode, perm!.uid, perm!.gid]);
      expect(readFileSync(path).equals(bytes)).toBe(true);
    }
    // Idempotent: a second write finds every file as it should be.
    await store.write(r.state!.secretFiles!.entries());
  });
});
