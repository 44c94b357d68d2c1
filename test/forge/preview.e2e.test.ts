import { createHmac } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { createForge } from '../../src/forge/create.js';
import { PREVIEW_MARKER } from '../../src/forge/preview-comment.js';
import { PreviewRunner } from '../../src/forge/previews.js';
import { ForgeQueue } from '../../src/forge/queue.js';
import type { PullRequestEvent } from '../../src/http/pull-request-webhook.js';
import { DEFAULT_SETTINGS } from '../../src/model/desired.js';
import { systemClock } from '../../src/ports/clock.js';
import { fullListing, removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { gitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { stopChild, until } from '../support/until.js';
import { FakeForge } from '../fakes/forge.js';

/**
 * Plan previews of pull requests (issue 17, items 2–3). `berth run` (the built
 * CLI) follows a bare repository served over smart HTTP whose berth.yaml points
 * `forge:` at the fake GitHub; a pull request is a commit under
 * refs/pull/N/head there, announced by a signed `pull_request` delivery:
 *  - opened → one comment with the plan and `berth/plan` success, and the host
 *    is unchanged (the engine listing, images included, byte for byte);
 *  - synchronize with an invalid head → the same comment edited, `berth/plan`
 *    failure naming FILE:LINE:COL;
 *  - the head interpolates a host secret: it reaches no request of the fake
 *    (it shows as `${DB_PASSWORD}`), and markup in the head stays inert.
 * Then a GitLab merge request (refs/merge-requests/N/head) through the same
 * runner in-process, against the same engine.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
const TOKEN = 'forge-token-for-preview-e2e-3f9a';
const HOOK_SECRET = 'hook-secret-for-preview-e2e-77c1';
const DB_PASSWORD = 'host-secret-db-password-e2e-91d4';
const GIT_PASSWORD = 'git-password-for-preview-e2e-0b5e';

let engine = false;
const prefix = `${uniqueName('pv')}-`;
const stack = `${prefix}app`;
let base = '';
let work = '';
let http: GitHttpServer | null = null;
let port = 0;
let child: ChildProcess | null = null;
let logs = '';
let fake: FakeForge;

const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: work, encoding: 'utf8' }).trim();
const waitFor = <T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 90_000) => until(what, fn, timeoutMs, () => logs);

/** Commit `compose` on the work tree's current HEAD and push it to `ref` of the bare remote. */
function commitTo(ref: string, message: string, compose: string, extra: Record<string, string> = {}): string {
  for (const [path, text] of Object.entries({ [`stacks/${stack}/compose.yaml`]: compose, ...extra })) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), text);
  }
  git('add', '-A');
  git('commit', '-qm', message);
  git('push', '-q', '--force', 'origin', `HEAD:${ref}`);
  return git('rev-parse', 'HEAD');
}

/** What berth could wrongly change: our objects, and the images (a preview never pulls). */
async function hostListing(): Promise<string> {
  const images = await docker(['images', '--no-trunc', '--digests', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}', 'berth-test/*']);
  const own = (await fullListing(prefix))
    .split('\n')
    .filter((l) => l.startsWith(prefix) || l === '---')
    .join('\n');
  return `${own}\n---\n${images.stdout.split('\n').sort().join('\n')}`;
}

async function deliver(event: string, payload: unknown): Promise<Response> {
  const body = JSON.stringify(payload);
  const sig = createHmac('sha256', HOOK_SECRET).update(body).digest('hex');
  return fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': `sha256=${sig}` }, body });
}

const githubPr = (action: string, number: number, sha: string) => ({ action, number, pull_request: { number, head: { sha, ref: 'feature' }, base: { ref: 'main' } } });

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  fake = await FakeForge.start(TOKEN);
  base = mkdtempSync(join(tmpdir(), 'berth-preview-'));
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(base, 'infra.git')]);
  work = join(base, 'work');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git('remote', 'add', 'origin', join(base, 'infra.git'));
  http = await gitHttpServer(base, 'berth', GIT_PASSWORD);
  port = await freePort();
});

afterAll(async () => {
  await stopChild(child);
  recordCapture('berth run (preview e2e) stdout+stderr', logs);
  await http?.stop();
  await fake?.close();
  if (engine) await removePrefixed(prefix);
}, 60_000);

describe('plan previews of pull requests', () => {
  it('GitHub: one comment with the plan, updated in place; berth/plan success then failure with FILE:LINE:COL; the host untouched; no host secret sent', async (ctx) => {
    if (!engine) ctx.skip();
    const berthYaml = `forge:\n  type: github\n  url: ${fake.url}\n  repo: acme/infra\n  token: \${FORGE_TOKEN}\nrollout:\n  bakeSeconds: 0\n`;
    const deployed = commitTo('refs/heads/main', 'web v1', 'services:\n  web:\n    image: berth-test/web:v1\n', { 'berth.yaml': berthYaml });
    child = spawn(process.execPath, [CLI, 'run', '--repo', http!.url('infra.git'), '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--name', 'host-a'], {
      env: { ...process.env, BERTH_STATE_DIR: join(base, 'state'), FORGE_TOKEN: TOKEN, BERTH_WEBHOOK_SECRET: HOOK_SECRET, DB_PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    await waitFor('the first deploy', () => fake.statuses.some((s) => s.sha === deployed && s.context === 'berth/deploy' && s.state === 'success'));
    const before = await hostListing();

    // The request: a new image, a new service, a host secret interpolated, markup and a hostile forge in berth.yaml.
    const head = commitTo(
      'refs/pull/7/head',
      'web v2',
      'services:\n  web:\n    image: berth-test/web:v2\n    labels:\n      note: "``` <img src=x onerror=alert(1)> @everyone"\n  extra:\n    image: berth-test/web:v1\n    command: ["sh", "-c", "echo ${DB_PASSWORD}; sleep 1d"]\n    environment:\n      PASSWORD: ${DB_PASSWORD}\n',
      { 'berth.yaml': berthYaml.replace(fake.url, 'http://attacker.invalid') },
    );
    const plans = (sha: string) => fake.statuses.filter((s) => s.sha === sha && s.context === 'berth/plan');
    expect((await deliver('pull_request', githubPr('opened', 7, head))).status).toBe(202);
    await waitFor('the plan status of the head', () => plans(head).some((s) => s.state !== 'pending'));
    expect(plans(head).map((s) => s.state)).toEqual(['pending', 'success']);
    expect(plans(head)[1]!.description).toBe('valid: 1 to create, 1 to recreate, 0 to update, 0 to remove');
    const mine = () => fake.comments.filter((c) => c.pr === 'acme/infra#7');
    await waitFor('the comment', () => mine().length === 1);
    const first = { ...mine()[0]! };
    recordCapture('preview comment (GitHub, opened)', first.body);
    expect(first.body).toContain(PREVIEW_MARKER);
    expect(first.body).toMatch(/Wave 4 · apps/);
    expect(first.body).toMatch(new RegExp(`\\+ ${stack}/extra`));
    expect(first.body).toMatch(new RegExp(`~ ${stack}/web\\s+recreate \\(start-first\\): image berth-test/web:v1 → berth-test/web:v2; labels \\+note`));
    expect(first.body).toContain('host-a');
    // Lint findings are in the comment, as in `berth plan`.
    expect(first.body).toMatch(/Lint: 0 errors, 6 warnings/);
    // Read-only: nothing created, removed, pulled or restarted.
    expect(await hostListing()).toBe(before);

    // A new head that does not validate: the same comment, edited; failure with the location.
    const bad = commitTo('refs/pull/7/head', 'typo', 'services:\n  web:\n    image: berth-test/web:v2\n    restart: sometimes\n    ports:\n      - "${DB_PASSWORD}:80"\n');
    expect((await deliver('pull_request', githubPr('synchronize', 7, bad))).status).toBe(202);
    await waitFor('the plan status of the invalid head', () => plans(bad).some((s) => s.state !== 'pending'));
    expect(plans(bad).at(-1)).toMatchObject({ state: 'failure' });
    expect(plans(bad).at(-1)!.description).toMatch(new RegExp(`^invalid: stacks/${stack}/compose\\.yaml:4:\\d+: `));
    await waitFor('the edited comment', () => mine()[0]!.body.includes('Invalid'));
    expect(mine()).toHaveLength(1);
    expect(mine()[0]!.id).toBe(first.id);
    expect(mine()[0]!.body).toMatch(new RegExp(`stacks/${stack}/compose\\.yaml:4:\\d+: error:`));

    // Other deliveries: a request into another branch, a closed one, an unsigned one.
    expect(await (await deliver('pull_request', { ...githubPr('opened', 8, bad), pull_request: { number: 8, head: { sha: bad }, base: { ref: 'dev' } } })).json()).toEqual({ ignored: 'pull request into dev' });
    expect(await (await deliver('pull_request', githubPr('closed', 7, bad))).json()).toEqual({ ignored: 'pull request closed' });
    const unsigned = await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', headers: { 'x-github-event': 'pull_request' }, body: JSON.stringify(githubPr('opened', 9, bad)) });
    expect(unsigned.status).toBe(401);

    expect(await hostListing()).toBe(before);
    // The host's secret went nowhere; it shows as its name. The token only in its header.
    expect(fake.allReceived()).not.toContain(DB_PASSWORD);
    // A message quoting an interpolated value (the bad port) quotes the variable's name.
    expect(mine()[0]!.body).toContain('${DB_PASSWORD}');
    expect(logs).not.toContain(DB_PASSWORD);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(GIT_PASSWORD);
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('GitLab: a merge request head (refs/merge-requests/N/head) gets one note and a berth/plan status; coalesced heads plan once', async (ctx) => {
    if (!engine) ctx.skip();
    const head = commitTo('refs/merge-requests/3/head', 'web v2 on gitlab', 'services:\n  web:\n    image: berth-test/web:v2\n');
    const io = { out: () => {}, err: () => {}, env: { ...process.env, BERTH_STATE_DIR: join(base, 'state-gitlab'), DB_PASSWORD } };
    const cli = createContext(io);
    const lines: string[] = [];
    const rec = (o: object, msg?: string) => void lines.push(`${msg} ${JSON.stringify(o)}`);
    const log = { debug: rec, info: rec, warn: rec, error: rec };
    const queue = new ForgeQueue(systemClock, log);
    const forge = { type: 'gitlab' as const, url: `${fake.url}/api/v4`, repo: 'acme/infra', token: TOKEN };
    const planned: string[] = [];
    const runner = new PreviewRunner({
      git: cli.git,
      repo: http!.url('infra.git'),
      preview: { docker: await cli.docker(), state: cli.state, clock: systemClock, env: io.env, files: cli.files },
      deployed: () => ({ settings: { ...DEFAULT_SETTINGS, forge }, revision: null }),
      forgeFor: (spec) => createForge(spec),
      queue,
      log,
      host: 'host-b',
      publicUrl: 'https://berth.example.org/',
      previewed: (e) => void planned.push(e.headSha),
    });
    const mr = (sha: string): PullRequestEvent => ({ provider: 'gitlab', number: 3, headSha: sha, base: 'main', action: 'update', ref: 'refs/merge-requests/3/head' });
    const before = await hostListing();
    runner.request(mr(head));
    runner.request(mr(head)); // while the first runs: waits, then is skipped (same head)
    await runner.whenIdle();
    await queue.whenIdle();
    expect(planned).toEqual([head]);
    const notes = fake.comments.filter((c) => c.pr === 'acme/infra!3');
    expect(notes).toHaveLength(1);
    // Planned against the live host: the container the first test deployed is recreated.
    expect(notes[0]!.body).toMatch(new RegExp(`~ ${stack}/web\\s+recreate \\(start-first\\): image berth-test/web:v1 → berth-test/web:v2`));
    const status = fake.statuses.filter((s) => s.sha === head && s.context === 'berth/plan');
    expect(status.map((s) => s.state)).toEqual(['pending', 'success']);
    expect(status[1]).toMatchObject({ description: 'valid: 0 to create, 1 to recreate, 0 to update, 0 to remove', targetUrl: 'https://berth.example.org/' });
    expect(fake.requests.filter((r) => r.path.startsWith('/api/v4/')).every((r) => r.headers['private-token'] === TOKEN)).toBe(true);
    expect(await hostListing()).toBe(before);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
