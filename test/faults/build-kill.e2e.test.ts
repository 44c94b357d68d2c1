import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretMaterialDir } from '../../src/adapters/secrets-host.js';
import { removeBuiltImages, removePrefixed } from '../support/berth-objects.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { vectorBytes, vectorPath, VECTOR_SECRET_VALUES } from '../support/sops-vectors.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { berth, spawnBerth } from './harness.js';

/**
 * kill -9 in the middle of a build, and a snapshot writer and a decrypted
 * secret writer that died half way: the rerun converges and leaves no
 * temporary image tag, directory or plaintext. The apply writes the
 * decrypted SOPS files before it builds, so the kill lands after the
 * secret materialization and before any container uses its file.
 */
const prefixes: string[] = [];
let engine = false;
beforeAll(async () => {
  engine = await requireEngine();
});
afterAll(async () => {
  if (!engine) return;
  for (const p of prefixes) {
    await removePrefixed(p);
    await removeBuiltImages(p);
  }
});

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' }).trim();

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('kill -9 during a build and during materialization', () => {
  it('the rerun converges; no temporary tags, no temporary directories, no plaintext left behind', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('k')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}web`;
    const repo = tmpRepo({
      'berth.yaml': 'rollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n',
      [`stacks/${stack}/compose.yaml`]: [
        'services:',
        '  app:',
        '    build: ./app',
        '    command: ["sleep", "3600"]',
        '    stop_signal: SIGKILL',
        '    volumes: ["./conf/app.conf:/etc/app.conf:ro"]',
        '    secrets: [db]',
        'secrets:',
        '  db: {file: ./db.enc.yaml}',
        '',
      ].join('\n'),
      [`stacks/${stack}/app/Dockerfile`]: 'FROM berth-test/busybox:1\nRUN sleep 3\nCOPY page.txt /page.txt\n',
      [`stacks/${stack}/app/page.txt`]: 'one\n',
      [`stacks/${stack}/conf/app.conf`]: 'conf one\n',
      [`stacks/${stack}/db.enc.yaml`]: vectorBytes('secrets.enc.yaml'),
    });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'one');
    const state = mkdtempSync(join(tmpdir(), 'berth-state-'));
    const env = { BERTH_STATE_DIR: state, SOPS_AGE_KEY_FILE: vectorPath('keys.txt') };
    const material = secretMaterialDir(state);

    // Killed while the builder runs `RUN sleep 3`.
    const run = spawnBerth(['apply', '--repo', repo], env);
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        if (d.toString().includes('build step 2/3')) {
          run.child.stdout!.off('data', onData);
          resolve();
        }
      };
      run.child.stdout!.on('data', onData);
    });
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    // The killed apply had materialized commit one's secret (0400, whole: tmp + rename) and created no container with it.
    const killedFiles = walk(material);
    expect(killedFiles.map((f) => f.slice(material.length + 1))).toEqual([expect.stringMatching(/^[0-9a-f]{32}\/db\.enc\.yaml$/)]);
    expect(statSync(killedFiles[0]!).mode & 0o777).toBe(0o400);

    // A decrypted-secret writer that died half way, and a rotation before the rerun: commit one's plaintext is no longer wanted.
    writeFileSync(join(killedFiles[0]!, '..', '.tmp-0123456789ab'), 'myapp1: t00m4nys3cr3tz', { mode: 0o400 });
    writeFileSync(join(repo, 'stacks', stack, 'db.enc.yaml'), vectorBytes('minimal.enc.yaml'));
    git(repo, 'commit', '-qam', 'rotate db');

    // A snapshot writer that died half way (its pid is gone).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    mkdirSync(join(state, 'files', `.tmp-${dead}-abcdef`), { recursive: true });
    writeFileSync(join(state, 'files', `.tmp-${dead}-abcdef`, 'c'), 'half');

    const again = await berth(['apply', '--repo', repo], env);
    expect(again.code, again.output).toBe(0);
    expect((await docker(['exec', `${stack}-app-1`, 'cat', '/page.txt'])).stdout.trim()).toBe('one');
    expect((await docker(['exec', `${stack}-app-1`, 'cat', '/etc/app.conf'])).stdout.trim()).toBe('conf one');
    const tags = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', `berth.local/${stack}-app`])).stdout.split('\n').filter(Boolean);
    expect(tags).toHaveLength(1);
    expect(tags[0]).toMatch(/^berth\.local\/.*-app:[0-9a-f]{12}$/);
    expect(readdirSync(join(state, 'files')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    // The container sees the rotated plaintext; the material dir holds exactly the files containers mount (no temporary, not commit one's).
    expect((await docker(['exec', `${stack}-app-1`, 'cat', '/run/secrets/db'])).stdout).toContain('version:');
    const mounts = (JSON.parse((await docker(['inspect', `${stack}-app-1`])).stdout) as { Mounts: { Source: string; Destination: string }[] }[])[0]!.Mounts;
    const dbSource = mounts.find((m) => m.Destination === '/run/secrets/db')!.Source;
    expect(walk(material)).toEqual([dbSource]);
    expect(statSync(dbSource).mode & 0o777).toBe(0o400);
    // Nothing decrypted anywhere else berth writes: the state dir (outside the material dir) and the checkout.
    for (const f of [...walk(state), ...walk(repo)].filter((f) => !f.startsWith(material + '/') && !f.includes('/.git/'))) {
      const bytes = readFileSync(f);
      for (const v of VECTOR_SECRET_VALUES) expect(bytes.includes(v), `${f} holds a plaintext value`).toBe(false);
    }
    const plan = await berth(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(0);
  });
});
