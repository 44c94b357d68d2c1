import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { requireEngine, uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { pushingClone } from '../support/pushing-clone.js';
import { stopChild, until } from '../support/until.js';
import { FakeForge } from '../fakes/forge.js';

/**
 * `berth/deploy` commit statuses from `berth run` (the built CLI) following a
 * git remote whose berth.yaml points `forge:` at the fake GitHub: a deploy
 * goes pending → success, a rollout whose new container is unhealthy ends
 * as failure "rolled back: unhealthy", both linking to --public-url.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
const TOKEN = 'forge-token-for-deploy-e2e-6b0d';
const PUBLIC = 'https://berth.example.org/';

let engine = false;
const prefix = `${uniqueName('fd')}-`;
const stack = `${prefix}app`;
let work = '';
let remoteUrl = '';
let port = 0;
let child: ChildProcess | null = null;
let logs = '';
let fake: FakeForge;

const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: work, encoding: 'utf8' }).trim();
const compose = (image: string) => `services:\n  web:\n    image: ${image}\n`;

function commit(message: string, image: string): string {
  mkdirSync(join(work, 'stacks', stack), { recursive: true });
  writeFileSync(join(work, 'stacks', stack, 'compose.yaml'), compose(image));
  git('add', '-A');
  git('commit', '-qm', message);
  // Pushed: berth follows the remote, so it sees the commit whole (see pushingClone).
  git('push', '-q', 'origin', 'main');
  return git('rev-parse', 'HEAD');
}

const waitFor = <T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 90_000) => until(what, fn, timeoutMs, () => logs);

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  fake = await FakeForge.start(TOKEN);
  ({ work, url: remoteUrl } = pushingClone(mkdtempSync(join(tmpdir(), 'berth-deploy-status-'))));
  writeFileSync(join(work, 'berth.yaml'), `forge:\n  type: github\n  url: ${fake.url}\n  repo: acme/infra\n  token: \${FORGE_TOKEN}\nrollout:\n  healthTimeoutSeconds: 30\n  bakeSeconds: 0\n`);
  port = await freePort();
});

afterAll(async () => {
  await stopChild(child);
  recordCapture('berth run (deploy status e2e) stdout+stderr', logs);
  await fake?.close();
  if (engine) await removePrefixed(prefix);
});

describe('berth/deploy commit statuses', () => {
  it('pending → success on a deploy, failure "rolled back: <gate>" when a rollout is rolled back; the token only in its header', async (ctx) => {
    if (!engine) ctx.skip();
    const first = commit('web v1', 'berth-test/web:v1');
    child = spawn(process.execPath, [CLI, 'run', '--repo', remoteUrl, '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--public-url', PUBLIC, '--insecure-webhook'], {
      env: { ...process.env, BERTH_STATE_DIR: join(work, '..', `${prefix}state`), FORGE_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const of = (sha: string) => fake.statuses.filter((s) => s.sha === sha && s.context === 'berth/deploy');
    await waitFor('deploy success of the first commit', () => of(first).some((s) => s.state === 'success'));
    expect(of(first).map((s) => s.state)).toEqual(['pending', 'success']);
    expect(of(first)[1]).toMatchObject({ description: 'deployed: 2 created, 0 recreated, 0 updated, 0 removed' /* network + container */, targetUrl: PUBLIC });

    const bad = commit('web bad', 'berth-test/web:bad');
    await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', body: '{}' });
    await waitFor('deploy outcome of the bad commit', () => of(bad).some((s) => s.state !== 'pending'), 120_000);
    expect(of(bad).map((s) => s.state)).toEqual(['pending', 'failure']);
    expect(of(bad)[1]!.description).toBe(`rolled back: unhealthy (${stack}/web)`);

    // The token went in the Authorization header only: no body, no path, no log line holds it.
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(fake.requests.some((r) => r.body.includes(TOKEN) || r.path.includes(TOKEN))).toBe(false);
    expect(logs).not.toContain(TOKEN);
  });
});
