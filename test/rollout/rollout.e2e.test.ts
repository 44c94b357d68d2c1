import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingDocker } from '../support/recording-docker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Rollouts against the real engine (PRODUCT.md §8): start-first with a
 * client polling the service's DNS name throughout, rollback when the new
 * container never becomes healthy, recreate with a backup and a rollback
 * that brings the old database back on its volume, and a crash mid-rollout.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const BERTH = join(ROOT, 'dist', 'bundle', 'main.js');
const BERTH_YAML = 'rollout:\n  drainSeconds: 1\n  healthTimeoutSeconds: 20\n';
let engine = false;
const prefixes: string[] = [];

interface Setup {
  stack: string;
  repo: string;
  env: Record<string, string>;
  write(compose: string): void;
}

function setup(compose: string): Setup {
  const stack = uniqueName('ro');
  prefixes.push(`${stack}-`, `${stack}_`);
  const repo = tmpRepo({ 'berth.yaml': BERTH_YAML, [`stacks/${stack}/compose.yaml`]: compose });
  const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };
  return { stack, repo, env, write: (c) => writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), c) };
}

const webCompose = (image: string) => `services:\n  web:\n    image: ${image}\n    environment:\n      API_TOKEN: rollout-secret-value-7731\n`;

async function inspect(name: string): Promise<{ Id: string; State: { StartedAt: string; Running: boolean; Health?: { Status: string } }; RestartCount: number; Config: { Image: string; Labels: Record<string, string> } } | null> {
  const r = await docker(['inspect', name]);
  if (r.code !== 0) return null;
  return (JSON.parse(r.stdout) as never[])[0]!;
}


beforeAll(async () => {
  engine = await requireEngine();
});

afterAll(async () => {
  if (!engine) return;
  for (const p of prefixes) await removePrefixed(p);
});

describe('start-first', () => {
  it('replaces web:v1 by web:v2 with zero failed requests through the service name', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(webCompose('berth-test/web:v1'));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const poller = `${s.stack}-poller`;
    // A client on the stack's network asking for `web` (Docker DNS) every 50 ms. Like most HTTP
    // clients and proxies it retries an idempotent GET once on a connection error: Docker's DNS
    // keeps answering with the old address for the ~0.2 s a network disconnect takes, while the
    // old address already goes nowhere (measured: 3 of 6 bare switches lost one request there).
    // (busybox-static's `wget -T` segfaults; `timeout` does the same job.)
    const get = 'timeout 3 wget -q -O /tmp/r http://web/ 2>/dev/null';
    const loop = `while true; do if ${get} || { echo RETRY; ${get}; }; then read r < /tmp/r; echo "ok $r"; else echo FAIL; fi; sleep 0.05; done`;
    expect((await docker(['run', '-d', '--name', poller, '--network', `${s.stack}_default`, 'berth-test/busybox:1', 'sh', '-c', loop])).code).toBe(0);
    await waitFor(async () => (await docker(['logs', poller])).stdout.includes('ok web v1'));

    s.write(webCompose('berth-test/web:v2'));
    const r = await runCli(['apply', '--repo', s.repo], s.env);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/started .*-web-1_berth_tmp beside/);
    expect(r.output).toMatch(/draining/);
    await waitFor(async () => (await docker(['logs', poller])).stdout.split('\n').slice(-5).some((l) => l.startsWith('ok web v2')));
    const lines = (await docker(['logs', poller])).stdout.split('\n').filter(Boolean);
    await docker(['rm', '-f', poller]);
    const around = lines.flatMap((l, i) => (l === 'FAIL' ? [lines.slice(Math.max(0, i - 3), i + 4).join(' | ')] : []));
    expect(around, `requests failed during the switch (of ${lines.length})`).toEqual([]);
    console.log(`start-first switch: ${lines.filter((l) => l.startsWith('ok')).length} requests, ${lines.filter((l) => l === 'RETRY').length} retried, 0 failed`);
    expect(lines.some((l) => l.startsWith('ok web v1'))).toBe(true);
    expect(lines.some((l) => l.startsWith('ok web v2'))).toBe(true);
    expect(lines.filter((l) => l === 'RETRY').length).toBeLessThanOrEqual(2);

    const { containers } = await listPrefixed(`${s.stack}-`);
    expect(containers).toEqual([`${s.stack}-web-1`]);
    const c = (await inspect(`${s.stack}-web-1`))!;
    expect(c.Config.Image).toBe('berth-test/web:v2');
    expect((await runCli(['plan', '--repo', s.repo], s.env)).code).toBe(0);
    expect(r.output).not.toContain('rollout-secret-value-7731');
  });

  it('rolls back when the new container never becomes healthy: the old one is never stopped', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(webCompose('berth-test/web:v1'));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const before = (await inspect(`${s.stack}-web-1`))!;

    s.write(webCompose('berth-test/web:bad'));
    const r = await runCli(['apply', '--repo', s.repo, '--json'], s.env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ops: { object: string; status: string; rollout?: { result: string; gate: string; lastHealthOutput: string | null } }[] };
    const op = out.ops.find((o) => o.object === `${s.stack}/web`)!;
    expect(op.status).toBe('failed');
    expect(op.rollout).toMatchObject({ result: 'rolled_back', gate: 'unhealthy' });
    expect(op.rollout!.lastHealthOutput).toMatch(/404/);

    const after = (await inspect(`${s.stack}-web-1`))!;
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect(after.RestartCount).toBe(before.RestartCount);
    expect(after.State.Running).toBe(true);
    expect(after.Config.Image).toBe('berth-test/web:v1');
    expect((await listPrefixed(`${s.stack}-`)).containers).toEqual([`${s.stack}-web-1`]);
    // Plain output says what happened.
    const plain = await runCli(['apply', '--repo', s.repo], s.env);
    expect(plain.code).toBe(1);
    expect(plain.output).toMatch(/rolled back \(unhealthy\)/);
  });

  it('survives kill -9 in the middle of a rollout: one serving container, no leftover temp container', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(webCompose('berth-test/web:v1'));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    s.write(webCompose('berth-test/web:v2'));
    const child = spawn(process.execPath, [BERTH, 'apply', '--repo', s.repo], { env: { ...process.env, ...s.env }, stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    await waitFor(async () => (await listPrefixed(`${s.stack}-`)).containers.includes(`${s.stack}-web-1_berth_tmp`), 20_000, 50);
    child.kill('SIGKILL');
    await exited;
    expect((await listPrefixed(`${s.stack}-`)).containers).toContain(`${s.stack}-web-1_berth_tmp`);

    const r = await runCli(['apply', '--repo', s.repo], s.env);
    expect(r.code, r.output).toBe(0);
    expect((await listPrefixed(`${s.stack}-`)).containers).toEqual([`${s.stack}-web-1`]);
    const c = (await inspect(`${s.stack}-web-1`))!;
    expect(c.State.Running).toBe(true);
    expect(c.Config.Image).toBe('berth-test/web:v2');
    expect((await runCli(['plan', '--repo', s.repo], s.env)).code).toBe(0);
  });
});

describe('recreate (database tier)', () => {
  const dbCompose = (image: string, env = '') => `services:
  db:
    image: ${image}
    volumes: [pgdata:/var/lib/postgresql/data]
${env}    x-berth:
      backup:
        command: ["sh", "-c", "cp /var/lib/postgresql/data/berth-marker /var/lib/postgresql/data/backup-$$(date +%s%N).txt"]
        timeoutSeconds: 30
volumes:
  pgdata: {}
`;

  it('backs up before the old container stops; a new image that never gets healthy brings the old one back on the same volume', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(dbCompose('berth-test/postgres:18'));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const volume = `${s.stack}_pgdata`;
    const readVolume = async (cmd: string) =>
      (await docker(['run', '--rm', '-v', `${volume}:/data`, 'berth-test/busybox:1', 'sh', '-c', cmd])).stdout.trim();
    const marker = await readVolume('cat /data/berth-marker');
    expect(marker).not.toBe('');
    const before = (await inspect(`${s.stack}-db-1`))!;

    s.write(dbCompose('berth-test/postgres:18', '    environment:\n      FAKE_DB_NEVER_HEALTHY: "1"\n'));
    const calls: string[] = [];
    const r = await runCli(['apply', '--repo', s.repo, '--json'], s.env, { docker: async () => recordingDocker(await DockerodeDocker.fromEnv(process.env), calls) });
    expect(r.code).toBe(1);
    const op = (JSON.parse(r.stdout) as { ops: { object: string; rollout?: { strategy: string; result: string; gate: string } }[] }).ops.find((o) => o.object === `${s.stack}/db`)!;
    expect(op.rollout).toMatchObject({ strategy: 'recreate', result: 'rolled_back', gate: 'health-timeout' });

    // The backup ran (exec in the old container) before anything was stopped or created.
    const order = calls.map((c) => c.split(' ')[0]);
    expect(order.indexOf('exec')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('exec')).toBeLessThan(order.indexOf('stopContainer'));
    expect(order.indexOf('stopContainer')).toBeLessThan(order.indexOf('createContainer'));
    expect(await readVolume('ls /data | grep -c "^backup-"')).toBe('1');
    expect(await readVolume('cat /data/backup-*.txt')).toBe(marker);

    const after = (await inspect(`${s.stack}-db-1`))!;
    expect(after.Id).toBe(before.Id);
    expect(after.State.Running).toBe(true);
    await waitFor(async () => (await inspect(`${s.stack}-db-1`))?.State.Health?.Status === 'healthy', 20_000);
    expect(await readVolume('cat /data/berth-marker')).toBe(marker);
    expect((await listPrefixed(`${s.stack}-`)).containers).toEqual([`${s.stack}-db-1`]);
  });

  it('a failing backup stops the change before the old container is touched', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(dbCompose('berth-test/postgres:18'));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const before = (await inspect(`${s.stack}-db-1`))!;
    s.write(dbCompose('berth-test/postgres:18', '    environment:\n      CHANGED: "1"\n').replace('cp /var/lib', 'echo no space left >&2; exit 3; cp /var/lib'));
    const r = await runCli(['apply', '--repo', s.repo], s.env);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/rolled back \(backup\).*backup command exited with code 3: no space left/);
    const after = (await inspect(`${s.stack}-db-1`))!;
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
  });

  it('when a database rollout fails, its dependents in the same plan are skipped and left as they were', async (ctx) => {
    if (!engine) ctx.skip();
    const app = (env: string) => `  api:\n    image: berth-test/worker:1\n    environment:\n      VERSION: "${env}"\n    depends_on:\n      db: {condition: service_healthy}\n`;
    const withApp = (db: string, env: string) => db.replace('volumes:\n  pgdata: {}', `${app(env).trimEnd()}\nvolumes:\n  pgdata: {}`);
    const s = setup(withApp(dbCompose('berth-test/postgres:18'), '1'));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const apiBefore = (await inspect(`${s.stack}-api-1`))!;
    s.write(withApp(dbCompose('berth-test/postgres:18', '    environment:\n      FAKE_DB_NEVER_HEALTHY: "1"\n'), '2'));
    const r = await runCli(['apply', '--repo', s.repo, '--json'], s.env);
    expect(r.code).toBe(1);
    const ops = (JSON.parse(r.stdout) as { ops: { object: string; status: string; rollout?: { result: string } }[] }).ops;
    expect(ops.find((o) => o.object === `${s.stack}/db`)).toMatchObject({ status: 'failed', rollout: { result: 'rolled_back' } });
    expect(ops.find((o) => o.object === `${s.stack}/api`)).toMatchObject({ status: 'skipped' });
    const apiAfter = (await inspect(`${s.stack}-api-1`))!;
    expect(apiAfter.Id).toBe(apiBefore.Id);
    expect(apiAfter.State.StartedAt).toBe(apiBefore.State.StartedAt);
  });

  it('a good new image replaces the database on the same volume and removes the old container', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(dbCompose('berth-test/postgres:18'));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const before = (await inspect(`${s.stack}-db-1`))!;
    s.write(dbCompose('berth-test/postgres:18', '    environment:\n      CHANGED: "1"\n'));
    const r = await runCli(['apply', '--repo', s.repo], s.env);
    expect(r.code, r.output).toBe(0);
    const after = (await inspect(`${s.stack}-db-1`))!;
    expect(after.Id).not.toBe(before.Id);
    expect(after.State.Health?.Status).toBe('healthy');
    expect((await listPrefixed(`${s.stack}-`)).containers).toEqual([`${s.stack}-db-1`]);
  });
});

