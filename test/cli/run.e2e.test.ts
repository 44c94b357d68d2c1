import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitAndPush, gitIn, pushingClone } from '../support/pushing-clone.js';
import { freePort } from '../support/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullListing, listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { removeContainersAtOnce } from '../support/engine-api.js';
import { recordCapture } from '../support/capture.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { recordingServer } from '../support/recording-server.js';
import { until as untilShared } from '../support/until.js';

/**
 * `berth run` end to end: a real git remote (a bare repo over file://), the
 * built CLI as a child process, the real engine. Webhooks are signed like
 * GitHub signs them.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
const SECRET = 'webhook-secret-for-run-e2e-5b1f';
const ENV_SECRET = 'db-password-for-run-e2e-91ac';

let engine = false;
const prefix = `${uniqueName('r')}-`;
const stack = `${prefix}app`;
let work = '';
let bareUrl = '';
let child: ChildProcess | null = null;
let logs = '';
let port = 0;

const git = (...args: string[]) => gitIn(work, ...args);

function compose(image: string, extra = ''): string {
  return `services:\n  web:\n    image: ${image}\n    environment:\n      DB_PASSWORD: \${DB_PASSWORD}\n${extra}`;
}

const commit = (message: string, files: Record<string, string>): string => commitAndPush(work, message, files);


function start(): void {
  child = spawn(process.execPath, [CLI, 'run', '--repo', bareUrl, '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--name', 'e2e-host'], {
    env: { ...process.env, BERTH_WEBHOOK_SECRET: SECRET, BERTH_STATE_DIR: stateDir, DB_PASSWORD: ENV_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
}

async function stopChild(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!child) return null;
  const c = child;
  child = null;
  const code = new Promise<number | null>((r) => c.once('exit', (x) => r(x)));
  c.kill(signal);
  return code;
}

async function http(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, init);
}

type Status = { reconciles: number; running: boolean; lastApplied: { revision: string } | null; lastResult: { outcome: string; revision: string } | null; validationErrors: { file: string; line: number; col: number }[] };
const status = async (): Promise<Status> => (await (await http('/api/status')).json()) as Status;

const until = <T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000) =>
  untilShared(what, fn, timeoutMs, { context: () => logs });

/** berth's JSON log lines with this message and drift id. */
function logLines(msg: string, id: string): string[] {
  return logs.split('\n').filter((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"drift":"${id}"`));
}

function signed(body: string) {
  return { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` };
}
const PUSH = JSON.stringify({ ref: 'refs/heads/main' });

async function webhookAndSettle(revision: string): Promise<void> {
  const r = await http('/webhook', { method: 'POST', headers: signed(PUSH), body: PUSH });
  expect(r.status).toBe(202);
  await until(`revision ${revision} handled`, async () => {
    const s = await status();
    return !s.running && s.lastResult?.revision === revision ? s : null;
  });
}

async function image(): Promise<string> {
  return (await docker(['inspect', '-f', '{{.Config.Image}}', `${stack}-web-1`])).stdout.trim();
}

let stateDir = '';
let chat: Awaited<ReturnType<typeof recordingServer>> | null = null;
/** berth.yaml with a generic webhook notifier pointing at the test's recording server. */
const berthYaml = (extra = '') => `notify:\n  - {type: webhook, url: "${chat!.url}/hook", name: recorder}\n${extra}`;
type ChatBody = { kind: string; title: string; lines: string[] };
const messages = (): ChatBody[] => (chat?.received ?? []).map((r) => JSON.parse(r.body) as ChatBody);

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  const base = mkdtempSync(join(tmpdir(), 'berth-run-'));
  stateDir = join(base, 'state');
  ({ work, url: bareUrl } = pushingClone(base));
  chat = await recordingServer();
  commit('empty stack to start', { 'berth.yaml': berthYaml(), [`stacks/${prefix}base/compose.yaml`]: 'services:\n  idle: {image: "berth-test/worker:1"}\n' });
  port = await freePort();
  start();
  await until('readyz', async () => (await http('/readyz')).status === 200);
});

afterAll(async () => {
  await stopChild();
  await chat?.close();
  recordCapture('berth run stdout+stderr', logs);
  if (process.env.BERTH_E2E_LOG) writeFileSync(process.env.BERTH_E2E_LOG, logs + "\n=== chat ===\n" + JSON.stringify(messages(), null, 1));
  if (engine) await removePrefixed(prefix);
});

describe('berth run', () => {
  it('serves health, readiness and metrics', async (ctx) => {
    if (!engine) ctx.skip();
    expect((await http('/healthz')).status).toBe(200);
    const metrics = await (await http('/metrics')).text();
    for (const name of ['berth_reconcile_duration_seconds', 'berth_reconcile_total', 'berth_applied_revision_info', 'berth_git_fetch_failures_total', 'process_resident_memory_bytes']) {
      expect(metrics).toContain(name);
    }
  });

  it('git push adds a service, a tag change recreates it, git revert rolls it back', async (ctx) => {
    if (!engine) ctx.skip();
    const add = commit('add web', { [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v1') });
    await webhookAndSettle(add);
    expect(await image()).toBe('berth-test/web:v1');
    expect((await status()).lastApplied?.revision).toBe(add);

    const bump = commit('web v2', { [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v2') });
    await webhookAndSettle(bump);
    expect(await image()).toBe('berth-test/web:v2');

    git('revert', '--no-edit', 'HEAD');
    git('push', '-q', 'origin', 'main');
    const reverted = git('rev-parse', 'HEAD');
    await webhookAndSettle(reverted);
    expect(await image()).toBe('berth-test/web:v1');
    expect((await status()).lastApplied?.revision).toBe(reverted);
    // One deploy message per new revision, with the commit subject.
    await until('deploy messages', async () => messages().filter((m) => m.kind === 'sync-succeeded').length >= 3, 10_000);
    const deploys = messages().filter((m) => m.kind === 'sync-succeeded');
    expect(deploys.map((m) => m.lines[0])).toEqual(expect.arrayContaining(['add web by t', 'web v2 by t']));
  });

  it('an invalid commit changes nothing on the host and its errors are located', async (ctx) => {
    if (!engine) ctx.skip();
    const before = await fullListing(prefix);
    const bad = commit('broken', { [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v2', '    ports: "80"\n') });
    await webhookAndSettle(bad);
    const s = await status();
    expect(s.lastResult?.outcome).toBe('invalid');
    await until('validation message', async () => messages().some((m) => m.kind === 'validation-failed'), 10_000);
    const v = messages().filter((m) => m.kind === 'validation-failed');
    expect(v).toHaveLength(1);
    expect(v[0]!.lines[0]).toMatch(new RegExp(`stacks/${stack}/compose.yaml:6:12`));
    expect(s.validationErrors[0]).toMatchObject({ file: `stacks/${stack}/compose.yaml`, line: 6, col: 12 });
    expect(await fullListing(prefix)).toBe(before);
    expect(await image()).toBe('berth-test/web:v1');
    // Fix it again for the next tests.
    const fixed = commit('fix', { [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v1') });
    await webhookAndSettle(fixed);
  });

  it('does not retry a revision whose apply failed until its backoff ends or a new commit arrives', async (ctx) => {
    if (!engine) ctx.skip();
    // No registry is reachable here: the pull of a missing image fails at once.
    const broken = commit('missing image', { [`stacks/${stack}/compose.yaml`]: compose('berth-test/does-not-exist:1') });
    await webhookAndSettle(broken);
    let s = (await status()) as Status & { backoff: { revision: string; attempts: number } | null };
    expect(s.lastResult?.outcome).toBe('failed');
    expect(s.backoff).toMatchObject({ revision: broken, attempts: 1 });
    expect(await image()).toBe('berth-test/web:v1');
    const r = await http('/webhook', { method: 'POST', headers: signed(PUSH), body: PUSH });
    expect(r.status).toBe(202);
    await until('idle', async () => !(await status()).running);
    await new Promise((r2) => setTimeout(r2, 300));
    s = (await status()) as typeof s;
    expect(s.backoff).toMatchObject({ revision: broken, attempts: 1 });
    const fixed = commit('image back', { [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v1') });
    await webhookAndSettle(fixed);
    s = (await status()) as typeof s;
    expect(s.lastResult?.outcome).toMatch(/converged|in-sync/);
    expect(s.backoff).toBeNull();
  });

  it('starts a container stopped by hand within seconds (Docker events, not the 1h interval)', async (ctx) => {
    if (!engine) ctx.skip();
    await docker(['stop', `${stack}-web-1`]);
    // The interval is 1 h: back within a minute means Docker events drove it (how soon: bench/controller.ts).
    await until('restart', async () => (await docker(['inspect', '-f', '{{.State.Running}}', `${stack}-web-1`])).stdout.trim() === 'true', 60_000);
    // One "appeared" and one "resolved" for it, however many passes ran.
    await until('idle', async () => !(await status()).running);
    const id = `${stack}/container/${stack}-web-1/stopped`;
    expect(logLines('drift appeared', id)).toHaveLength(1);
    expect(logLines('drift resolved', id)).toHaveLength(1);
    expect(logLines('drift resolved', id)[0]).toMatch(/"resolution":"healed"/);
    // Chat: exactly one "appeared" and one "resolved" message naming the container.
    await until('chat', async () => messages().filter((m) => m.kind === 'drift-resolved').length >= 1, 10_000);
    const about = (kind: string) => messages().filter((m) => m.kind === kind && m.lines.some((l) => l.includes(`${stack}-web-1`)));
    expect(about('drift-appeared')).toHaveLength(1);
    expect(about('drift-resolved')).toHaveLength(1);
    expect(about('drift-resolved')[0]!.lines[0]).toMatch(/undone by berth/);
  });

  it('with selfHeal off, reports drift once, leaves it, and does not announce it again after a restart', async (ctx) => {
    if (!engine) ctx.skip();
    const rev = commit('report only', { 'berth.yaml': berthYaml(`stacks:\n  ${stack}: {selfHeal: false}\n`) });
    await webhookAndSettle(rev);
    await docker(['stop', `${stack}-web-1`]);
    const id = `${stack}/container/${stack}-web-1/stopped`;
    await until('drift seen', async () => logLines('drift appeared', id).length === 2);
    for (let i = 0; i < 3; i++) await webhookAndSettle(rev);
    expect((await docker(['inspect', '-f', '{{.State.Running}}', `${stack}-web-1`])).stdout.trim()).toBe('false');
    expect(logLines('drift appeared', id)).toHaveLength(2);
    const s = (await status()) as Status & { drift: { id: string }[] };
    expect(s.drift.map((d) => d.id)).toContain(id);

    expect(await stopChild('SIGTERM')).toBe(0);
    start();
    await until('ready again', async () => (await http('/readyz')).status === 200);
    await webhookAndSettle(rev);
    expect(logLines('drift appeared', id)).toHaveLength(2);

    await docker(['start', `${stack}-web-1`]);
    await until('resolved', async () => logLines('drift resolved', id).length === 2, 15_000);
    expect(logLines('drift resolved', id)[1]).toMatch(/"resolution":"fixed"/);
    const back = commit('heal again', { 'berth.yaml': berthYaml('policy: {selfHeal: true}\n') });
    await webhookAndSettle(back);
  });

  it('reports 30 containers removed at once in one chat message, and brings them back', async (ctx) => {
    if (!engine) ctx.skip();
    const many = `${prefix}fleet`;
    const rev = commit('fleet', { [`stacks/${many}/compose.yaml`]: `services:\n${Array.from({ length: 30 }, (_, j) => `  w${j}: {image: "berth-test/worker:1"}\n`).join('')}` });
    await webhookAndSettle(rev);
    const names = (await listPrefixed(`${many}-`)).containers;
    expect(names).toHaveLength(30);
    const before = messages().length;
    await removeContainersAtOnce(names);
    await until('all back', async () => (await listPrefixed(`${many}-`)).containers.length === 30 && !(await status()).running, 60_000);
    const aboutFleet = (kind: string) => messages().slice(before).filter((m) => m.kind === kind && m.lines.some((l) => l.includes(`${many}-w`)));
    await until('resolved message', async () => aboutFleet('drift-resolved').length > 0, 40_000);
    const appeared = aboutFleet('drift-appeared');
    expect(appeared).toHaveLength(1);
    expect(appeared[0]!.lines.filter((l) => l.includes(`${many}-w`))).toHaveLength(30);
  });

  it('rejects unsigned or wrongly signed webhooks with 401 and runs nothing', async (ctx) => {
    if (!engine) ctx.skip();
    // Counted from berth's log, not from the pass counter: on a shared engine other tests'
    // containers send events that start passes of their own at any moment.
    const webhookLines = () => logs.split('\n').filter((l) => l.includes('"msg":"webhook: reconcile triggered"') || (l.includes('"msg":"reconcile"') && l.includes('"webhook:'))).length;
    await until('no webhook pass running', async () => !(await status()).running, 60_000);
    const before = webhookLines();
    const wrong = await http('/webhook', { method: 'POST', headers: { ...signed(PUSH), 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) }, body: PUSH });
    const missing = await http('/webhook', { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push' }, body: PUSH });
    expect([wrong.status, missing.status]).toEqual([401, 401]);
    await new Promise((r) => setTimeout(r, 500));
    expect(webhookLines()).toBe(before);
    // The check can see a webhook: a signed one right after is counted.
    expect((await http('/webhook', { method: 'POST', headers: signed(PUSH), body: PUSH })).status).toBe(202);
    await until('the signed webhook logged', async () => webhookLines() > before, 20_000);
  });

  it('coalesces 50 concurrent webhooks into at most 2 reconciles', async (ctx) => {
    if (!engine) ctx.skip();
    // Idle and quiet: the previous test's containers may still send events whose debounced pass (≤ 2 s) would count here.
    await until('idle and quiet', async () => {
      const a = await status();
      await new Promise((r) => setTimeout(r, 2_500));
      const b = await status();
      return !b.running && a.reconciles === b.reconciles;
    });
    const before = (await status()).reconciles;
    const codes = await Promise.all(Array.from({ length: 50 }, () => http('/webhook', { method: 'POST', headers: signed(PUSH), body: PUSH }).then((r) => r.status)));
    expect(new Set(codes)).toEqual(new Set([202]));
    await until('settled', async () => {
      await new Promise((r) => setTimeout(r, 300));
      return !(await status()).running;
    });
    expect((await status()).reconciles - before).toBeLessThanOrEqual(2);
  });

  it('exits 0 on SIGTERM in the middle of an apply, and the next start converges', async (ctx) => {
    if (!engine) ctx.skip();
    const many = { [`stacks/${prefix}many/compose.yaml`]: `services:\n${Array.from({ length: 8 }, (_, j) => `  s${j}: {image: "berth-test/worker:1"}\n`).join('')}` };
    const rev = commit('many services', many);
    await http('/webhook', { method: 'POST', headers: signed(PUSH), body: PUSH });
    await until('apply under way', async () => (await listPrefixed(`${prefix}many-`)).containers.length > 0, 20_000);
    const t0 = Date.now();
    expect(await stopChild('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    start();
    await until('converged after restart', async () => {
      const s = await status();
      return s.lastApplied?.revision === rev && !s.running ? s : null;
    }, 60_000);
    expect((await listPrefixed(`${prefix}many-`)).containers).toHaveLength(8);
  });

  it('rolls back a rollout that fails its health gate once: one chat message, the metric, no retry until a new commit', async (ctx) => {
    if (!engine) ctx.skip();
    const id = async () => (await docker(['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', `${stack}-web-1`])).stdout.trim();
    expect(await image()).toBe('berth-test/web:v1');
    const before = await id();
    const bad = commit('web bad', { [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:bad') });
    await webhookAndSettle(bad);
    let s = (await status()) as Status & { held: { revision: string; services: string[] } | null; backoff: unknown };
    // 'failed', or 'in-sync' when the rollout's own Docker events already triggered the next (held) pass.
    expect(s.lastResult?.outcome).toMatch(/failed|in-sync/);
    expect(s.held).toEqual({ revision: bad, services: [`${stack}/web`] });
    expect(await id()).toBe(before);
    expect(await image()).toBe('berth-test/web:v1');
    await until('rollout message', async () => messages().some((m) => m.kind === 'rollout-failed'), 10_000);
    const msg = messages().filter((m) => m.kind === 'rollout-failed');
    expect(msg).toHaveLength(1);
    expect(msg[0]!.title).toContain(`${stack}/web`);
    expect(msg[0]!.title).toContain(bad.slice(0, 7));
    expect(msg[0]!.lines.join('\n')).toMatch(/gate unhealthy failed[\s\S]*404/);
    expect(await (await http('/metrics')).text()).toMatch(/berth_rollouts_total\{result="rolled_back"\} 1\b/);

    // The same revision again (webhooks, Docker events): the rollout is not retried.
    for (let i = 0; i < 2; i++) {
      const n = (await status()).reconciles;
      expect((await http('/webhook', { method: 'POST', headers: signed(PUSH), body: PUSH })).status).toBe(202);
      await until('another pass', async () => {
        const x = await status();
        return x.reconciles > n && !x.running ? x : null;
      });
    }
    s = (await status()) as typeof s;
    expect(s.lastResult?.outcome).toBe('in-sync');
    expect(s.backoff).toBeNull();
    expect(await id()).toBe(before);
    expect((await listPrefixed(`${stack}-`)).containers).toEqual([`${stack}-web-1`]);
    expect(messages().filter((m) => m.kind === 'rollout-failed')).toHaveLength(1);
    expect(await (await http('/metrics')).text()).toMatch(/berth_rollouts_total\{result="rolled_back"\} 1\b/);
    // Nor after a restart of berth: the hold is kept in the state dir.
    expect(await stopChild('SIGTERM')).toBe(0);
    start();
    await until('ready again', async () => (await http('/readyz')).status === 200);
    await until('idle', async () => !(await status()).running);
    expect(await id()).toBe(before);
    expect(((await status()) as typeof s).held).toEqual({ revision: bad, services: [`${stack}/web`] });
    // The held old container is still enforced: stopped by hand, it is started again (not replaced).
    await docker(['stop', `${stack}-web-1`]);
    await until('old container started again', async () => (await docker(['inspect', '-f', '{{.State.Running}}', `${stack}-web-1`])).stdout.trim() === 'true', 15_000);
    expect((await id()).split(' ')[0]).toBe(before.split(' ')[0]);
    const restarted = await id();

    // git revert: a new commit ends the hold; v1 is still on the host (no registry here, so no pull happened).
    git('revert', '--no-edit', 'HEAD');
    git('push', '-q', 'origin', 'main');
    const reverted = git('rev-parse', 'HEAD');
    await webhookAndSettle(reverted);
    s = (await status()) as typeof s;
    expect(s.held).toBeNull();
    expect(s.lastResult?.outcome).toMatch(/in-sync|converged/);
    expect(s.lastApplied?.revision).toBe(reverted);
    expect(await id()).toBe(restarted);
  });

  it('never logs a secret value', async (ctx) => {
    if (!engine) ctx.skip();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(ENV_SECRET);
    const sent = JSON.stringify(chat?.received ?? []);
    expect(sent.length).toBeGreaterThan(100);
    expect(sent).not.toContain(SECRET);
    expect(sent).not.toContain(ENV_SECRET);
  });
});
