import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingDocker } from '../support/recording-docker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingDocker } from '../../src/adapters/counting-docker.js';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { containerIds, fullListing, listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { isolatedCopy } from '../support/isolated-repo.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * The engine end to end: the CLI, in-process, against the real dockerd, on
 * copies of the example repo whose every Docker name carries a unique prefix.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE = join(ROOT, 'desired-state');
const prefixes: string[] = [];
let engine = false;

function setup(src = EXAMPLE) {
  const prefix = `${uniqueName('t')}-`;
  prefixes.push(prefix);
  const repo = isolatedCopy(src, prefix);
  const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };
  return { prefix, repo, env };
}


beforeAll(async () => {
  engine = await requireEngine();
});

afterAll(async () => {
  if (engine) for (const p of prefixes) await removePrefixed(p);
});

describe('plan and apply against the real engine', () => {
  it('applies the example from scratch in dependency order; a second plan is in sync with only list calls', async (ctx) => {
    if (!engine) ctx.skip();
    const { prefix, repo, env } = setup();
    const log: string[] = [];
    const real = DockerodeDocker.fromEnv({});
    const applied = await runCli(['apply', '--repo', repo], env, { docker: async () => recordingDocker(real, log) });
    expect(applied.code, applied.output).toBe(0);

    // Waves: networks, then volumes, then databases, then apps; worker after api (service_healthy).
    const creates = log.filter((l) => l.startsWith('create'));
    const idx = (s: string) => creates.findIndex((l) => l === s);
    const lastNet = Math.max(...creates.map((l, i) => (l.startsWith('createNetwork') ? i : -1)));
    const firstVol = creates.findIndex((l) => l.startsWith('createVolume'));
    const lastVol = Math.max(...creates.map((l, i) => (l.startsWith('createVolume') ? i : -1)));
    const dbs = [idx(`createContainer ${prefix}data-postgres-1`), idx(`createContainer ${prefix}data-redis-1`)];
    const apps = [`${prefix}web-web-1`, `${prefix}api-api-1`, `${prefix}infra-status-1`, `${prefix}api-worker-1`].map((n) => idx(`createContainer ${n}`));
    expect(lastNet).toBeLessThan(firstVol);
    expect(lastVol).toBeLessThan(Math.min(...dbs));
    expect(Math.max(...dbs)).toBeLessThan(Math.min(...apps));
    expect(idx(`createContainer ${prefix}api-api-1`)).toBeLessThan(idx(`createContainer ${prefix}api-worker-1`));
    expect(apps.every((i) => i >= 0)).toBe(true);

    // Ordinary Compose objects: docker-compose sees berth's containers.
    const ps = await docker(['ps', '--filter', `label=com.docker.compose.project=${prefix}data`, '--format', '{{.Names}}']);
    expect(ps.stdout.split('\n').filter(Boolean).sort()).toEqual([`${prefix}data-postgres-1`, `${prefix}data-redis-1`]);

    const counting = new CountingDocker(real);
    const again = await runCli(['plan', '--repo', repo], env, { docker: async () => counting });
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain('No changes');
    expect(counting.snapshot()).toEqual({ listContainers: 1, listImages: 1, listNetworks: 1, listVolumes: 1 });

    const drift = await runCli(['drift'], env);
    expect(drift.code, drift.output).toBe(0);
    const status = await runCli(['status', '--json'], env);
    const doc = JSON.parse(status.stdout) as { stacks: { services: { state: string }[] }[] };
    expect(doc.stacks.flatMap((s) => s.services.map((x) => x.state))).toEqual(Array(6).fill('running'));
  });

  it('recreates only the service whose environment changed, and never prints the value', async (ctx) => {
    if (!engine) ctx.skip();
    const { prefix, repo, env } = setup();
    expect((await runCli(['apply', '--repo', repo], env)).code).toBe(0);
    const before = await containerIds(prefix);
    const file = join(repo, 'stacks', `${prefix}web`, 'compose.yaml');
    const secret = 'greeting-value-7731-not-for-logs';
    writeFileSync(file, readFileSync(file, 'utf8').replace('${WEB_GREETING:-hello from berth}', secret));

    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.stdout).toMatch(new RegExp(`~ ${prefix}web/web\\s+recreate.*env GREETING changed \\(value hidden\\)`));
    expect(plan.stdout).toContain('Plan: 0 to create, 1 to recreate, 0 to update, 0 to remove.');
    const json = await runCli(['plan', '--json', '--repo', repo], env);
    const applied = await runCli(['apply', '--repo', repo], env);
    expect(applied.code, applied.output).toBe(0);
    for (const out of [plan.output, json.output, applied.output]) expect(out).not.toContain(secret);

    const after = await containerIds(prefix);
    const changed = Object.keys(after).filter((n) => after[n] !== before[n]);
    expect(changed).toEqual([`${prefix}web-web-1`]);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(Object.keys(after).some((n) => n.includes('_berth_'))).toBe(false);
  });

  it('refuses to make a network internal while a foreign container is attached, naming it', async (ctx) => {
    if (!engine) ctx.skip();
    const { prefix, repo, env } = setup();
    expect((await runCli(['apply', '--repo', repo], env)).code).toBe(0);
    const foreign = `${prefix}foreign`;
    expect((await docker(['run', '-d', '--name', foreign, '--network', `${prefix}observability`, 'berth-test/busybox:1', 'sleep', '300'])).code).toBe(0);
    const file = join(repo, 'stacks', `${prefix}infra`, 'compose.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(observability:\n\s+name: \S+\n\s+driver: bridge)/, '$1\n    internal: true'));
    const before = await fullListing(prefix);
    const r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain(foreign);
    expect(await fullListing(prefix)).toBe(before);
  });

  it('with prune, removes a stack that left the repo: containers and networks go, volumes stay with their data', async (ctx) => {
    if (!engine) ctx.skip();
    const src = tmpRepo({
      'berth.yaml': 'policy: {prune: true}\n',
      'stacks/keep/compose.yaml': 'services:\n  app: {image: "berth-test/worker:1"}\n',
      'stacks/gone/compose.yaml':
        'services:\n  db:\n    image: berth-test/postgres:18\n    volumes: ["data:/var/lib/postgresql/data"]\n    networks: [back]\nnetworks:\n  back: {}\nvolumes:\n  data: {}\n',
    });
    const { prefix, repo, env } = setup(src);
    expect((await runCli(['apply', '--repo', repo], env)).code).toBe(0);
    // The fake database writes its marker once healthy; wait for it.
    for (let i = 0; i < 60; i++) {
      const h = await docker(['inspect', '-f', '{{.State.Health.Status}}', `${prefix}gone-db-1`]);
      if (h.stdout.trim() === 'healthy') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const marker = (await docker(['exec', `${prefix}gone-db-1`, 'cat', '/var/lib/postgresql/data/berth-marker'])).stdout;
    expect(marker).toMatch(/created/);

    rmSync(join(repo, 'stacks', `${prefix}gone`), { recursive: true });
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    const r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(0);
    const left = await listPrefixed(prefix);
    expect(left.containers).toEqual([`${prefix}keep-app-1`]);
    expect(left.networks).toEqual([`${prefix}keep_default`]);
    expect(left.volumes).toEqual([`${prefix}gone_data`]);
    const check = await docker(['run', '--rm', '-v', `${prefix}gone_data:/d`, 'berth-test/busybox:1', 'cat', '/d/berth-marker']);
    expect(check.stdout).toBe(marker);
  });

  it('stops at a container name held by an unmanaged container and changes nothing', async (ctx) => {
    if (!engine) ctx.skip();
    const { prefix, repo, env } = setup();
    const squatter = `${prefix}web-web-1`;
    expect((await docker(['create', '--name', squatter, 'berth-test/busybox:1', 'sleep', '300'])).code).toBe(0);
    const before = await fullListing(prefix);
    for (const cmd of ['plan', 'apply']) {
      const r = await runCli([cmd, '--repo', repo], env);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain(squatter);
      expect(r.output).toMatch(/not managed by berth/);
    }
    expect(await fullListing(prefix)).toBe(before);
  });

  it('converges after being SIGKILLed mid-apply: no duplicates, no leftovers, no volume lost', async (ctx) => {
    if (!engine) ctx.skip();
    const { prefix, repo, env } = setup();
    const cli = join(ROOT, 'dist', 'bundle', 'main.js');
    const runUntil = async (pattern: RegExp) => {
      const child = spawn(process.execPath, [cli, 'apply', '--repo', repo], { env: { ...process.env, ...env }, stdio: 'ignore' });
      for (let i = 0; i < 400; i++) {
        const names = (await listPrefixed(prefix)).containers;
        if (names.some((n) => pattern.test(n))) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    };
    // Killed while creating the first containers.
    await runUntil(new RegExp(`^${prefix}data-`));
    let r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(0);

    // Killed in the middle of replacing a container (its temporary twin exists).
    const file = join(repo, 'stacks', `${prefix}web`, 'compose.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('berth-test/web:v1', 'berth-test/web:v2'));
    await runUntil(/_berth_tmp$/);
    r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(0);

    const left = await listPrefixed(prefix);
    expect(left.containers).toEqual(
      ['api-api-1', 'api-worker-1', 'data-postgres-1', 'data-redis-1', 'infra-status-1', 'web-web-1'].map((n) => `${prefix}${n}`),
    );
    expect(left.volumes).toEqual([`${prefix}pgdata`, `${prefix}redisdata`]);
    const image = await docker(['inspect', '-f', '{{.Config.Image}}', `${prefix}web-web-1`]);
    expect(image.stdout.trim()).toBe('berth-test/web:v2');
    expect((await runCli(['plan', '--repo', repo], env)).code).toBe(0);
  });
});
