import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDesiredStateWithSecrets } from '../../src/compose/load-secrets.js';
import { createValidators } from '../../src/compose/schema.js';
import { redactService } from '../../src/apply/applied-record.js';
import { specDifferences } from '../../controllers/service.js';
import { SopsKeyring } from '../../src/secrets/keyring.js';
import { DirSecretFileStore } from '../../src/secrets/materialize.js';
import { identitiesOf, vectorBytes, VECTOR_SECRET_VALUES, BINARY_PLAINTEXT } from '../support/sops-vectors.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const allKeys = () => new SopsKeyring([...identitiesOf('keys.txt'), ...identitiesOf('other-key/keys.txt')]);

const COMPOSE = `services:
  app:
    image: berth-test/busybox:1
    env_file: [app.enc.env]
    environment: {FROM_DOTENV: "\${GREETING}"}
    secrets: [db, blob]
secrets:
  db: {file: ./db.enc.yaml}
  blob: {file: ./blob.txt}
`;

/** A repo whose SOPS files are the vectors' bytes (read in place from ../shared at run time). */
function sopsRepo(overrides: Record<string, Uint8Array | string> = {}): string {
  return tmpRepo({
    'stacks/s/compose.yaml': COMPOSE,
    'stacks/s/.env': 'GREETING=hello\n',
    'stacks/s/app.enc.env': vectorBytes('other-key/app.enc.env'),
    'stacks/s/db.enc.yaml': vectorBytes('secrets.enc.yaml'),
    'stacks/s/blob.txt': vectorBytes('binary.enc.txt'),
    ...overrides,
  });
}

async function load(repo: string, keyring = allKeys(), materialDir = '/run/berth/test', salt = 'salt-1') {
  return loadDesiredStateWithSecrets(repo, { env: {}, validators, secrets: { keyring, salt, materialDir } });
}

describe('SOPS files of a stack are decrypted in memory', () => {
  it('env_file and secrets: files decrypt; the mounts point at content-addressed paths; no plaintext in the state JSON', async () => {
    const repo = sopsRepo({ 'stacks/s/.env': 'GREETING=hello\n' });
    const r = await load(repo);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const svc = r.state!.stacks[0]!.services[0]!;
    expect(svc.environment.THIS_IS_ENCRYPTED).toBe('yes');
    const db = svc.mounts.find((m) => m.target === '/run/secrets/db')!;
    expect(db).toMatchObject({ type: 'bind', readOnly: true, secret: 'secret db' });
    expect(db.type === 'bind' && db.source).toMatch(/^\/run\/berth\/test\/[0-9a-f]{32}\/db\.enc\.yaml$/);
    expect([...r.secrets.decrypted].sort()).toEqual(['stacks/s/app.enc.env', 'stacks/s/blob.txt', 'stacks/s/db.enc.yaml']);
    const files = new Map(r.state!.secretFiles!.entries().map(([p, text]) => [p, text]));
    expect(files.get((svc.mounts.find((m) => m.target === '/run/secrets/blob') as { source: string }).source)!.toString()).toBe(BINARY_PLAINTEXT);
    const json = JSON.stringify(r.state);
    for (const v of VECTOR_SECRET_VALUES) expect(json).not.toContain(v);
  });

  it('a SOPS .env feeds interpolation', async () => {
    const env = vectorBytes('other-key/app.enc.env');
    const r = await load(sopsRepo({ 'stacks/s/.env': env, 'stacks/s/compose.yaml': COMPOSE.replace('${GREETING}', '${THIS_IS_ENCRYPTED}') }));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.state!.stacks[0]!.services[0]!.environment.FROM_DOTENV).toBe('yes');
    expect(r.secrets.decrypted.has('stacks/s/.env')).toBe(true);
  });

  it('a tampered file, a missing key and a SOPS file under the wrong name are located errors naming the file; no state', async () => {
    const tampered = await load(sopsRepo({ 'stacks/s/.env': 'GREETING=x\n', 'stacks/s/db.enc.yaml': vectorBytes('tampered/secrets.list-reordered.enc.yaml') }));
    expect(tampered.state).toBeNull();
    expect(tampered.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([expect.stringMatching(/stacks\/s\/db\.enc\.yaml: .*MAC does not match/)]);
    expect(tampered.diagnostics[0]).toMatchObject({ file: 'stacks/s/compose.yaml', code: 'sops', line: 8 });

    const noKey = await load(sopsRepo({ 'stacks/s/.env': 'GREETING=x\n' }), new SopsKeyring(identitiesOf('keys.txt')));
    expect(noKey.state).toBeNull();
    expect(noKey.diagnostics.filter((d) => d.severity === 'error')).toEqual([
      expect.objectContaining({ file: 'stacks/s/app.enc.env', code: 'sops', message: expect.stringMatching(/none of the available age identities opens it/) }),
    ]);
    expect([...noKey.secrets.refused.keys()]).toEqual(['stacks/s/app.enc.env']);

    const wrongName = await load(sopsRepo({ 'stacks/s/.env': 'GREETING=x\n', 'stacks/s/blob.txt': vectorBytes('secrets.enc.yaml') }));
    expect(wrongName.diagnostics.map((d) => d.message).join('\n')).toMatch(/blob\.txt: .*read as binary.*not SOPS' binary store/);
  });

  it('an encrypted Compose file is refused (its values would reach plans)', async () => {
    const r = await load(tmpRepo({ 'stacks/s/compose.yaml': vectorBytes('minimal.enc.yaml') }));
    expect(r.diagnostics[0]).toMatchObject({ file: 'stacks/s/compose.yaml', code: 'sops', message: expect.stringMatching(/not supported/) });
  });

  it('a rotated secret changes the hash with the reason "secret db changed (value hidden)"; a re-encryption of the same plaintext does not', async () => {
    const before = (await load(sopsRepo({ 'stacks/s/.env': 'GREETING=x\n' }))).state!.stacks[0]!.services[0]!;
    const rotated = (await load(sopsRepo({ 'stacks/s/.env': 'GREETING=x\n', 'stacks/s/db.enc.yaml': vectorBytes('minimal.enc.yaml') }))).state!.stacks[0]!.services[0]!;
    expect(rotated.configHash).not.toBe(before.configHash);
    expect(specDifferences(redactService(before, 's'), rotated, 's')).toEqual(['secret db changed (value hidden)']);
    // The same plaintext from a JSON file of another encryption: same path, same hash as any other file with that content.
    const again = (await load(sopsRepo({ 'stacks/s/.env': 'GREETING=x\n' }))).state!.stacks[0]!.services[0]!;
    expect(again.configHash).toBe(before.configHash);
  });
});

describe('materialization', () => {
  it('files 0400 in 0700 dirs, rewritten idempotently, temporaries and unreferenced files swept', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-sops-mat-')), 'secrets');
    const r = await load(sopsRepo({ 'stacks/s/.env': 'GREETING=x\n' }), allKeys(), dir);
    const store = new DirSecretFileStore(dir);
    const entries = r.state!.secretFiles!.entries();
    await store.write(entries);
    // What a kill -9 between open and rename leaves: a temporary, never at a mounted path. The next pass removes it.
    const leftover = join(entries[0]![0], '..', '.tmp-killed');
    writeFileSync(leftover, 'partial plaintext', { mode: 0o400 });
    await store.write(entries);
    expect(existsSync(leftover)).toBe(false);
    for (const [path, text] of entries) {
      expect(statSync(path).mode & 0o777).toBe(0o400);
      expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
      expect(readFileSync(path).equals(text)).toBe(true);
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await store.sweep(new Set([entries[0]![0]]));
    expect(readdirSync(dir)).toHaveLength(1);
    await store.sweep(new Set());
    expect(readdirSync(dir)).toHaveLength(0);
  });
});

/** The same stack with `db` in the long syntax; `refs` replaces `[db, blob]`. */
const withRefs = (refs: string, decls = '  db: {file: ./db.enc.yaml}\n  blob: {file: ./blob.txt}\n') =>
  `services:\n  app:\n    image: berth-test/busybox:1\n    env_file: [app.enc.env]\n    secrets:\n${refs}secrets:\n${decls}`;

describe('long syntax uid/gid/mode of a secret', () => {
  it('a decrypted file gets them (its own path: two owners of one plaintext never share a file); octal as compose-go reads it', async () => {
    const refs = '      - {source: db, uid: "1234", gid: "2345", mode: 0440}\n      - {source: db, target: db-o, mode: 0o600}\n      - {source: db, target: db-s, mode: "640"}\n      - blob\n';
    const r = await load(sopsRepo({ 'stacks/s/compose.yaml': withRefs(refs) }));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const svc = r.state!.stacks[0]!.services[0]!;
    const sourceOf = (t: string) => (svc.mounts.find((m) => m.target === t) as { source: string }).source;
    const perms = new Map(r.state!.secretFiles!.entries().map(([p, , perm]) => [p, perm]));
    expect(perms.get(sourceOf('/run/secrets/db'))).toEqual({ uid: 1234, gid: 2345, mode: 0o440 });
    expect(perms.get(sourceOf('/run/secrets/db-o'))).toEqual({ mode: 0o600 });
    expect(perms.get(sourceOf('/run/secrets/db-s'))).toEqual({ mode: 0o640 });
    expect(perms.get(sourceOf('/run/secrets/blob'))).toBeNull();
    expect(new Set(['db', 'db-o', 'db-s'].map((t) => sourceOf(`/run/secrets/${t}`))).size).toBe(3);
    // Changing only the mode is a recreate, named by the secret only.
    const before = (await load(sopsRepo({ 'stacks/s/compose.yaml': withRefs('      - {source: db, mode: 0440}\n') }))).state!.stacks[0]!.services[0]!;
    const after = (await load(sopsRepo({ 'stacks/s/compose.yaml': withRefs('      - {source: db, mode: 0400}\n') }))).state!.stacks[0]!.services[0]!;
    expect(after.configHash).not.toBe(before.configHash);
    expect(specDifferences(redactService(before, 's'), after, 's')).toEqual(['secret db changed (value hidden)']);
  });

  it('a name for uid, or a mode beyond 0777, is a located error; for a plain file they are ignored with a warning, as docker compose does', async () => {
    const bad = await load(sopsRepo({ 'stacks/s/compose.yaml': withRefs('      - {source: db, uid: www-data}\n      - {source: blob, mode: 01777}\n') }));
    expect(bad.state).toBeNull();
    expect(bad.diagnostics.filter((d) => d.severity === 'error')).toEqual([
      expect.objectContaining({ code: 'invalid-secret-uid', file: 'stacks/s/compose.yaml', line: 6, path: 'services.app.secrets[0].uid' }),
      expect.objectContaining({ code: 'invalid-secret-mode', file: 'stacks/s/compose.yaml', line: 7, path: 'services.app.secrets[1].mode' }),
    ]);
    const plain = await load(
      sopsRepo({ 'stacks/s/compose.yaml': withRefs('      - {source: db, uid: "999", mode: 0440}\n', '  db: {file: ./plain.txt}\n'), 'stacks/s/plain.txt': 'not encrypted\n' }),
    );
    expect(plain.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(plain.diagnostics).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'secret-perms-ignored', line: 6, message: expect.stringMatching(/^secret db: .*ignored.*docker compose/) }));
    expect(plain.state!.stacks[0]!.services[0]!.mounts.find((m) => m.target === '/run/secrets/db')).toMatchObject({ source: expect.stringMatching(/stacks\/s\/plain\.txt$/) });
  });

  it('the store writes them (owner before plaintext), and rewrites a file whose mode or owner was changed by hand', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip(); // chown to another uid needs root (berth runs as root on a host)
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-sops-perm-')), 'secrets');
    const r = await load(sopsRepo({ 'stacks/s/compose.yaml': withRefs('      - {source: db, uid: "1234", gid: "2345", mode: 0440}\n') }), allKeys(), dir);
    const store = new DirSecretFileStore(dir);
    const entries = r.state!.secretFiles!.entries();
    await store.write(entries);
    const [path] = entries[0]!;
    const st = () => statSync(path);
    expect([st().uid, st().gid, st().mode & 0o7777]).toEqual([1234, 2345, 0o440]);
    chmodSync(path, 0o444);
    chownSync(path, 0, 0);
    await store.write(entries);
    expect([st().uid, st().gid, st().mode & 0o7777]).toEqual([1234, 2345, 0o440]);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
  });
});

describe('a bind-mounted repository file that is a SOPS file', () => {
  const bindCompose = (vol: string) => `services:\n  app:\n    image: berth-test/busybox:1\n    volumes: ["${vol}"]\n`;
  it('is mounted read-only from its decrypted copy, named by its path in plans; plain files and directories stay as they are', async () => {
    const repo = tmpRepo({
      'stacks/s/compose.yaml': `services:\n  app:\n    image: berth-test/busybox:1\n    volumes: ["./conf/app.enc.yaml:/etc/app.yaml:ro", "./conf/plain.txt:/etc/plain.txt:ro", "./conf:/conf:ro"]\n`,
      'stacks/s/conf/app.enc.yaml': vectorBytes('secrets.enc.yaml'),
      'stacks/s/conf/plain.txt': 'plain\n',
    });
    const r = await load(repo, allKeys(), '/run/berth/test-bind');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const mounts = r.state!.stacks[0]!.services[0]!.mounts;
    const byTarget = (t: string) => mounts.find((m) => m.target === t) as { source: string; secret?: string; readOnly: boolean };
    expect(byTarget('/etc/app.yaml')).toMatchObject({ secret: 'file stacks/s/conf/app.enc.yaml', readOnly: true, source: expect.stringMatching(/^\/run\/berth\/test-bind\/[0-9a-f]{32}\/app\.enc\.yaml$/) });
    expect(byTarget('/etc/plain.txt').source).toMatch(/stacks\/s\/conf\/plain\.txt$/);
    expect(byTarget('/conf').source).toMatch(/stacks\/s\/conf$/);
    const [path, plaintext] = r.state!.secretFiles!.entries()[0]!;
    expect(path).toBe(byTarget('/etc/app.yaml').source);
    expect(plaintext.toString()).toContain('t00m4nys3cr3tzupdated');
    expect(JSON.stringify(r.state)).not.toContain('t00m4nys3cr3tzupdated');
    // Rotated: a recreate named by the file only.
    const rotated = await load(tmpRepo({ 'stacks/s/compose.yaml': bindCompose('./conf/app.enc.yaml:/etc/app.yaml:ro'), 'stacks/s/conf/app.enc.yaml': vectorBytes('minimal.enc.yaml') }), allKeys(), '/run/berth/test-bind');
    const before = await load(tmpRepo({ 'stacks/s/compose.yaml': bindCompose('./conf/app.enc.yaml:/etc/app.yaml:ro'), 'stacks/s/conf/app.enc.yaml': vectorBytes('secrets.enc.yaml') }), allKeys(), '/run/berth/test-bind');
    expect(specDifferences(redactService(before.state!.stacks[0]!.services[0]!, 's'), rotated.state!.stacks[0]!.services[0]!, 's')).toEqual([
      'file stacks/s/conf/app.enc.yaml changed (value hidden)',
    ]);
  });

  it('a writable mount of one, or one that does not verify, is a located error; no state', async () => {
    const writable = await load(tmpRepo({ 'stacks/s/compose.yaml': bindCompose('./app.enc.yaml:/etc/app.yaml'), 'stacks/s/app.enc.yaml': vectorBytes('secrets.enc.yaml') }));
    expect(writable.state).toBeNull();
    expect(writable.diagnostics).toEqual([expect.objectContaining({ code: 'sops-bind-writable', file: 'stacks/s/compose.yaml', line: 4, path: 'services.app.volumes[0]', message: expect.stringMatching(/read-only/) })]);
    const tampered = await load(tmpRepo({ 'stacks/s/compose.yaml': bindCompose('./app.enc.yaml:/etc/app.yaml:ro'), 'stacks/s/app.enc.yaml': vectorBytes('tampered/secrets.list-reordered.enc.yaml') }));
    expect(tampered.state).toBeNull();
    expect(tampered.diagnostics).toEqual([expect.objectContaining({ code: 'sops', line: 4, message: expect.stringMatching(/^stacks\/s\/app\.enc\.yaml: .*MAC does not match/) })]);
  });
});
