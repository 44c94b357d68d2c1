import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { containerIds, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { recordingDocker } from '../support/recording-docker.js';
import { BINARY_PLAINTEXT, vectorBytes, vectorPath, VECTOR_SECRET_VALUES } from '../support/sops-vectors.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * SOPS end to end on the real engine: a stack whose env_file (dotenv), one
 * secret (binary store) and another (YAML) are SOPS files encrypted with the
 * vectors' public test keys, the YAML one also bind-mounted as a file. The container sees plaintext; outputs, the
 * state dir and plans never do.
 */
const prefixes: string[] = [];
let engine = false;
beforeAll(async () => {
  engine = await requireEngine();
});
afterAll(async () => {
  if (engine) for (const p of prefixes) await removePrefixed(p);
});

const compose = `services:
  app:
    image: berth-test/busybox:1
    command: ["sh", "-c", "sleep 3600"]
    init: true
    stop_grace_period: 1s
    env_file: [app.enc.env]
    volumes: ["./db.enc.yaml:/etc/db.yaml:ro"]
    secrets:
      - db
      - {source: blob, uid: "1234", gid: "2345", mode: 0440}
secrets:
  db: {file: ./db.enc.yaml}
  blob: {file: ./blob.txt}
`;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('SOPS files on the real engine', () => {
  it('converges, the container sees plaintext, nothing else does; missing key, tampered file and rotation behave', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('sops')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}s`;
    const dir = `stacks/${stack}`;
    const repo = tmpRepo({
      [`${dir}/compose.yaml`]: compose,
      [`${dir}/app.enc.env`]: vectorBytes('other-key/app.enc.env'),
      [`${dir}/db.enc.yaml`]: vectorBytes('secrets.enc.yaml'),
      [`${dir}/blob.txt`]: vectorBytes('binary.enc.txt'),
    });
    const home = mkdtempSync(join(tmpdir(), 'berth-sops-home-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'berth-state-'));
    const keys = { SOPS_AGE_KEY_FILE: vectorPath('keys.txt'), SOPS_AGE_KEY: readFileSync(vectorPath('other-key/keys.txt'), 'utf8') };
    const base = { BERTH_STATE_DIR: stateDir, HOME: home };
    const real = DockerodeDocker.fromEnv({});
    const mutations: string[] = [];
    const recorded = { docker: async () => recordingDocker(real, mutations) };

    // A missing key: exit 1 naming the file, zero Docker mutations.
    const noKey = await runCli(['apply', '--repo', repo], { ...base, SOPS_AGE_KEY_FILE: keys.SOPS_AGE_KEY_FILE }, recorded);
    expect(noKey.code, noKey.output).toBe(1);
    expect(noKey.output).toContain(`${dir}/app.enc.env`);
    expect(noKey.output).toMatch(/none of the available age identities opens it/);
    expect(mutations).toEqual([]);
    const validate = await runCli(['validate', '--repo', repo], { ...base, SOPS_AGE_KEY_FILE: keys.SOPS_AGE_KEY_FILE });
    expect(validate.code).toBe(1);
    expect(validate.stdout).toMatch(new RegExp(`decrypted +${dir}/blob.txt`));
    expect(validate.stdout).toMatch(new RegExp(`NOT decrypted +${dir}/app.enc.env`));

    const applied = await runCli(['apply', '--repo', repo], { ...base, ...keys }, recorded);
    expect(applied.code, applied.output).toBe(0);
    const name = `${stack}-app-1`;
    const env = await docker(['exec', name, 'env']);
    expect(env.stdout).toContain('THIS_IS_ENCRYPTED=yes');
    expect((await docker(['exec', name, 'cat', '/run/secrets/blob'])).stdout).toBe(BINARY_PLAINTEXT);
    expect((await docker(['exec', name, 'cat', '/run/secrets/db'])).stdout).toContain('myapp1: t00m4nys3cr3tzupdated');
    // A bind-mounted repository file that is a SOPS file: the container sees its plaintext too.
    expect((await docker(['exec', name, 'cat', '/etc/db.yaml'])).stdout).toContain('myapp1: t00m4nys3cr3tzupdated');

    // Decrypted files: 0400 in 0700 directories; the state dir holds no plaintext at all.
    const inspect = JSON.parse((await docker(['inspect', name])).stdout) as { Mounts: { Source: string; Destination: string }[] }[];
    const sources = inspect[0]!.Mounts.filter((m) => m.Destination.startsWith('/run/secrets/')).map((m) => m.Source);
    expect(sources).toHaveLength(2);
    for (const s of sources) {
      expect(statSync(s).mode & 0o777).toBe(s.endsWith('/blob.txt') ? 0o440 : 0o400);
      expect(statSync(join(s, '..')).mode & 0o777).toBe(0o700);
      expect(statSync(join(s, '..', '..')).mode & 0o777).toBe(0o700);
    }
    // Long syntax uid/gid/mode: set on the decrypted file the container sees (docker compose ignores them for a file secret).
    expect((await docker(['exec', name, 'stat', '-c', '%u %g %a', '/run/secrets/blob', '/run/secrets/db'])).stdout.trim().split('\n')).toEqual(['1234 2345 440', '0 0 400']);
    expect((await docker(['exec', '-u', '1234:2345', name, 'cat', '/run/secrets/blob'])).stdout).toBe(BINARY_PLAINTEXT);
    for (const f of walk(stateDir)) {
      const text = readFileSync(f, 'utf8');
      const readable = (statSync(f).mode & 0o077) !== 0;
      for (const v of VECTOR_SECRET_VALUES) expect(readable && text.includes(v), `${f} holds a plaintext value readable by group or other`).toBe(false);
      for (const v of VECTOR_SECRET_VALUES) expect(text.includes(v), `${f} holds a plaintext value`).toBe(false);
    }

    // A tampered file in a new commit: refused, the running container untouched.
    const ids = await containerIds(prefix);
    writeFileSync(join(repo, dir, 'db.enc.yaml'), vectorBytes('tampered/secrets.list-reordered.enc.yaml'));
    mutations.length = 0;
    const tampered = await runCli(['apply', '--repo', repo], { ...base, ...keys }, recorded);
    expect(tampered.code, tampered.output).toBe(1);
    expect(tampered.output).toMatch(new RegExp(`${dir}/db.enc.yaml: .*MAC does not match`));
    expect(mutations).toEqual([]);
    expect(await containerIds(prefix)).toEqual(ids);

    // A rotated secret: recreate, the reason names only the secret.
    writeFileSync(join(repo, dir, 'db.enc.yaml'), vectorBytes('minimal.enc.yaml'));
    const plan = await runCli(['plan', '--repo', repo], { ...base, ...keys });
    expect(plan.code, plan.output).toBe(2);
    expect(plan.stdout).toMatch(/recreate.*secret db changed \(value hidden\)/);
    // Other tests' objects share the engine: only this stack's lines count.
    const mine = plan.output.split('\n').filter((l) => l.includes(stack));
    expect(mine.join('\n')).not.toMatch(/mounts|blob|app\.enc\.env/);
    const rotated = await runCli(['apply', '--repo', repo], { ...base, ...keys });
    expect(rotated.code, rotated.output).toBe(0);
    expect((await docker(['exec', name, 'cat', '/run/secrets/db'])).stdout).toContain('version:');
    expect((await docker(['exec', name, 'cat', '/etc/db.yaml'])).stdout).toContain('version:');
    // The old plaintext's file went with the old container.
    expect(statSync(sources.find((s) => s.endsWith('db.enc.yaml'))!, { throwIfNoEntry: false })).toBeUndefined();
    const again = await runCli(['plan', '--repo', repo], { ...base, ...keys });
    expect(again.code, again.output).toBe(0);
  });
});
