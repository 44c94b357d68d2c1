import { createHmac } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREVIEW_MARKER } from '../../src/forge/preview-comment.js';
import { recordCapture } from '../support/capture.js';
import { uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { pushingClone } from '../support/pushing-clone.js';
import { PrivateDockerd, requirePrivateEngines, TestBed } from '../support/private-dockerd.js';
import { stopChild, until } from '../support/until.js';
import { FakeForge } from '../fakes/forge.js';

/**
 * The forge with berth.yaml `hosts:` (issue 18 with issue 17): `berth run`
 * (the built CLI) drives two private engines of the test bed, app-1 and db-1,
 * and reports to the fake GitHub:
 *  - `berth/deploy` is one status per commit over both hosts: pending, then
 *    success once both converged; with db-1's dockerd SIGKILLed, failure
 *    naming db-1 while app-1 converged; db-1 back → success;
 *  - a pull request preview plans each host against its own engine and
 *    groups the comment by host; nothing on either engine changes.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
const TOKEN = 'forge-token-for-hosts-e2e-52c8';
const HOOK_SECRET = 'hook-secret-for-hosts-e2e-0d3f';
const p = `${uniqueName('hf')}-`;

let engine = false;
let bed: TestBed | null = null;
let a: PrivateDockerd;
let b: PrivateDockerd;
let work = '';
let remoteUrl = '';
let port = 0;
let child: ChildProcess | null = null;
let logs = '';
let fake: FakeForge;

const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: work, encoding: 'utf8' }).trim();
const compose = (cmd: string) => `services:\n  app:\n    image: berth-test/worker:1\n    command: ["sh", "-c", "${cmd}; exec sleep 3600"]\n    stop_grace_period: 1s\n    x-berth: {minReadySeconds: 0}\n`;
const waitFor = <T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 90_000) => until(what, fn, timeoutMs, () => logs);

function commit(message: string, stacks: Record<string, string>): string {
  for (const [name, cmd] of Object.entries(stacks)) {
    mkdirSync(join(work, 'stacks', `${p}${name}`), { recursive: true });
    writeFileSync(join(work, 'stacks', `${p}${name}`, 'compose.yaml'), compose(cmd));
  }
  git('add', '-A');
  git('commit', '-qm', message);
  // Pushed: berth follows the remote, so it sees the commit whole (see pushingClone).
  git('push', '-q', 'origin', 'HEAD');
  return git('rev-parse', 'HEAD');
}

async function deliver(event: string, payload: unknown): Promise<Response> {
  const body = JSON.stringify(payload);
  const sig = createHmac('sha256', HOOK_SECRET).update(body).digest('hex');
  return fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': `sha256=${sig}` }, body });
}

const ids = async (d: PrivateDockerd) => (await d.docker(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean).sort().join(',');
const cmdOf = async (d: PrivateDockerd, name: string) => (await d.docker(['inspect', '-f', '{{json .Config.Cmd}}', name])).stdout;

beforeAll(async () => {
  engine = await requirePrivateEngines();
  if (!engine) return;
  bed = await TestBed.start(2, { images: ['berth-test/worker:1'] });
  [a, b] = bed.engines as [PrivateDockerd, PrivateDockerd];
  fake = await FakeForge.start(TOKEN);
  const base = mkdtempSync(join(tmpdir(), 'berth-hosts-forge-'));
  ({ work, url: remoteUrl } = pushingClone(base));
  writeFileSync(
    join(work, 'berth.yaml'),
    `forge:\n  type: github\n  url: ${fake.url}\n  repo: acme/infra\n  token: \${FORGE_TOKEN}\nhosts:\n  app-1:\n    docker: ${a.tcpHost}\n    stacks: [${p}web]\n  db-1:\n    docker: ${b.tcpHost}\n    stacks: [${p}data]\n`,
  );
  port = await freePort();
}, 120_000);

afterAll(async () => {
  await stopChild(child);
  recordCapture('berth run (hosts forge e2e) stdout+stderr', logs);
  await fake?.close();
  await bed?.destroy();
}, 120_000);

describe('the forge with several hosts', () => {
  it('berth/deploy over both hosts: pending → success; a SIGKILLed host → failure naming it; back → success; previews grouped by host', async (ctx) => {
    if (!engine) ctx.skip();
    const first = commit('web and data', { web: 'echo web', data: 'echo data' });
    child = spawn(process.execPath, [CLI, 'run', '--repo', remoteUrl, '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--name', 'berth-1'], {
      env: { ...process.env, BERTH_STATE_DIR: join(work, '..', `${p}state`), FORGE_TOKEN: TOKEN, BERTH_WEBHOOK_SECRET: HOOK_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const deploys = (sha: string) => fake.statuses.filter((s) => s.sha === sha && s.context === 'berth/deploy');
    await waitFor('the first commit deployed on both hosts', () => deploys(first).some((s) => s.state === 'success'));
    expect(deploys(first)[0]!.state).toBe('pending');
    expect(deploys(first).at(-1)!.description).toBe('deployed on app-1, db-1: 4 created, 0 recreated, 0 updated, 0 removed');
    expect(deploys(first).filter((s) => s.state === 'success')).toHaveLength(1);

    // A pull request changing db-1's stack: planned against each host's own engine, grouped by host, read-only.
    const before = [await ids(a), await ids(b)];
    git('checkout', '-q', '-b', 'feature');
    const head = commit('data v2', { data: 'echo data v2' });
    git('push', '-q', 'origin', `${head}:refs/pull/7/head`);
    git('checkout', '-q', 'main');
    const pr = { action: 'opened', number: 7, pull_request: { number: 7, head: { sha: head, ref: 'feature' }, base: { ref: 'main' } } };
    expect((await deliver('pull_request', pr)).status).toBe(202);
    const plans = () => fake.statuses.filter((s) => s.sha === head && s.context === 'berth/plan');
    await waitFor('the plan status of the head', () => plans().some((s) => s.state !== 'pending'));
    expect(plans().at(-1)).toMatchObject({ state: 'success', description: 'valid: app-1 no changes; db-1 0 to create, 1 to recreate, 0 to update, 0 to remove' });
    const comment = await waitFor('the comment', () => fake.comments.find((c) => c.pr === 'acme/infra#7'));
    recordCapture('preview comment (hosts)', comment.body);
    expect(comment.body).toContain(PREVIEW_MARKER);
    expect(comment.body).toContain('against hosts `app-1`, `db-1`');
    const dbPart = comment.body.slice(comment.body.indexOf('#### Host `db-1`'));
    const appPart = comment.body.slice(comment.body.indexOf('#### Host `app-1`'), comment.body.indexOf('#### Host `db-1`'));
    expect(appPart).toContain('**Valid**: no changes.');
    expect(dbPart).toMatch(new RegExp(`~ ${p}data/app\\s+recreate`));
    expect([await ids(a), await ids(b)]).toEqual(before);

    // db-1 crashes (its dockerd, containerd and containers SIGKILLed); a commit for both hosts.
    await b.kill();
    const second = commit('web and data v3', { web: 'echo web v3', data: 'echo data v3' });
    expect((await deliver('push', { ref: 'refs/heads/main' })).status).toBe(202);
    await waitFor('the second commit failed on db-1', () => deploys(second).some((s) => s.state === 'failure'));
    expect(deploys(second).at(-1)!.description).toMatch(/^failed on db-1: .*; deployed on app-1$/);
    expect(await cmdOf(a, `${p}web-app-1`)).toContain('echo web v3');

    // db-1 boots again: berth reconnects to it, converges it, and the commit's status turns to success.
    await b.up();
    await waitFor('the second commit deployed on both hosts', () => deploys(second).at(-1)?.state === 'success', 120_000);
    expect(deploys(second).at(-1)!.description).toMatch(/^deployed on app-1, db-1: /);
    expect(await cmdOf(b, `${p}data-app-1`)).toContain('echo data v3');
    expect(fake.allReceived()).not.toContain(HOOK_SECRET);
    expect(logs).not.toContain(TOKEN);
  });
});
