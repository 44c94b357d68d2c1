import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { gitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { until } from '../support/until.js';
import { spawnBerth, type BerthRun } from './harness.js';

/**
 * `berth run` while its git remote is unreachable (issue 8, item 4): the last
 * good state is kept and enforced, `/readyz` stays 200, every failed fetch is
 * counted in `berth_git_fetch_failures_total` and shown in `/api/status`, and
 * once the remote is back the next commit deploys. Two remotes:
 *  - a bare repo over file://, moved away and back;
 *  - the same over smart HTTP with credentials in the URL (a local
 *    `git http-backend` with basic auth), stopped and started: the password
 *    must never appear in logs or in /api/status.
 */
const PASSWORD = 'git-password-for-faults-e2e-6c2d';

let engine = false;
const prefixes: string[] = [];
const runs: BerthRun[] = [];
const servers: GitHttpServer[] = [];

beforeAll(async () => {
  engine = await requireEngine();
});

afterAll(async () => {
  for (const r of runs) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    await r.done;
  }
  for (const s of servers) await s.stop();
  if (engine) for (const p of prefixes) await removePrefixed(p);
}, 120_000);



type Status = {
  ready: boolean;
  repo: string;
  lastApplied: { revision: string } | null;
  fetchError: { message: string; failures: number } | null;
};

/** A bare remote with a work clone that commits and pushes to it. */
function remote() {
  const base = mkdtempSync(join(tmpdir(), 'berth-git-faults-'));
  const bare = join(base, 'remote.git');
  const work = join(base, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: work, encoding: 'utf8' }).trim();
  git('remote', 'add', 'origin', bare);
  /** Commit and push, to the bare repo or to wherever it was moved (`to`). */
  const commit = (message: string, files: Record<string, string>, to = 'origin'): string => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(work, path, '..'), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git('add', '-A');
    git('commit', '-qm', message);
    git('push', '-q', to, 'main');
    return git('rev-parse', 'HEAD');
  };
  return { base, bare, commit };
}

/**
 * Converge from `url`, make the remote unreachable with `cut`, check berth
 * keeps going, push a commit, `restore`, check it deploys.
 */
async function scenario(
  opts: { url: (bare: string, base: string) => Promise<string>; cut: () => Promise<void>; restore: () => Promise<void>; pushWhileCut?: string },
  r: ReturnType<typeof remote>,
  prefix: string,
) {
  const stack = `${prefix}app`;
  const container = `${stack}-app-1`;
  const compose = (mark: string) => `services:\n  app:\n    image: berth-test/worker:1\n    environment:\n      MARK: "${mark}"\n`;
  const first = r.commit('first', { [`stacks/${stack}/compose.yaml`]: compose('one') });
  const url = await opts.url(r.bare, r.base);
  const port = await freePort();
  const run = spawnBerth(['run', '--repo', url, '--branch', 'main', '--interval', '1s', '--listen', `127.0.0.1:${port}`, '--name', 'git-faults'], {
    BERTH_STATE_DIR: join(r.base, 'state'),
  });
  runs.push(run);
  let logs = '';
  run.child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  run.child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const http = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  const status = async () => (await (await http('/api/status')).json()) as Status;
  const failures = async () => Number(/^berth_git_fetch_failures_total (\d+)/m.exec(await (await http('/metrics')).text())?.[1] ?? NaN);
  const wait = <T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 60_000) => until(what, fn, ms, { everyMs: 200, context: () => logs });
  const mark = async () => (await docker(['inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', container])).stdout.match(/^MARK=(.*)$/m)?.[1];

  await wait('first deploy', async () => (await status()).lastApplied?.revision === first && (await mark()) === 'one');
  const id = (await docker(['inspect', '-f', '{{.Id}}', container])).stdout.trim();
  expect(await failures()).toBe(0);

  const notReady: string[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const code = await http('/readyz').then((x) => x.status, (e: Error) => e.message);
      if (code !== 200) notReady.push(String(code));
      await new Promise((res) => setTimeout(res, 200));
    }
  })();

  await opts.cut();
  await wait('three failed fetches', async () => (await failures()) >= 3);
  const down = await status();
  expect(down.fetchError?.failures).toBeGreaterThanOrEqual(3);
  expect(down.fetchError?.message).toMatch(/git fetch .* failed/);
  expect(down.lastApplied?.revision).toBe(first);
  // The last good state is still enforced: a container removed by hand comes back while git is away.
  expect((await docker(['rm', '-f', container])).code).toBe(0);
  await wait('self-heal from the last good state', async () => (await docker(['inspect', '-f', '{{.State.Running}}', container])).stdout.trim() === 'true');
  const healedId = (await docker(['inspect', '-f', '{{.Id}}', container])).stdout.trim();
  expect(healedId).not.toBe(id);
  expect(await mark()).toBe('one');

  // A commit pushed while berth cannot see the remote deploys once it can.
  const second = r.commit('second', { [`stacks/${stack}/compose.yaml`]: compose('two') }, opts.pushWhileCut);
  await new Promise((res) => setTimeout(res, 1_500));
  expect(await mark()).toBe('one');
  await opts.restore();
  await wait('second deploy', async () => (await status()).lastApplied?.revision === second && (await mark()) === 'two');
  const back = await status();
  expect(back.fetchError).toBeNull();
  const counted = await failures();
  await new Promise((res) => setTimeout(res, 2_000));
  expect(await failures(), 'no more failures once the remote is back').toBe(counted);

  polling = false;
  await poller;
  expect(notReady).toEqual([]);
  expect(run.child.exitCode).toBeNull();
  expect(logs).toMatch(/fetching the desired state failed; keeping the last good state/);
  const statuses = JSON.stringify([down, back]);
  recordCapture('berth run /api/status', statuses);
  return { logs, status: statuses, failures: counted };
}

describe('berth run with its git remote unreachable', () => {
  it('file:// remote moved away and back: keeps the last good state and stays ready, counts the failures, then deploys the next commit', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('gf')}-`;
    prefixes.push(prefix);
    const r = remote();
    const away = `${r.bare}.away`;
    const result = await scenario(
      {
        url: async (bare) => `file://${bare}`,
        cut: async () => renameSync(r.bare, away),
        restore: async () => renameSync(away, r.bare),
        pushWhileCut: away,
      },
      r,
      prefix,
    );
    console.log(`[git-unreachable] file:// remote: ${result.failures} failed fetches counted while it was away`);
  }, 180_000);

  it('http remote with credentials in the URL stopped and started: same, and the password appears in no log and no status', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('gh')}-`;
    prefixes.push(prefix);
    const r = remote();
    const server = await gitHttpServer(r.base, 'berth', PASSWORD);
    servers.push(server);
    const result = await scenario(
      {
        url: async () => server.url('remote.git'),
        cut: () => server.stop(),
        restore: () => server.start(),
      },
      r,
      prefix,
    );
    expect(result.logs).toContain('***@127.0.0.1');
    expect(result.status).toContain('***@127.0.0.1');
    expect(result.logs).not.toContain(PASSWORD);
    expect(result.status).not.toContain(PASSWORD);
    console.log(`[git-unreachable] http remote with credentials: ${result.failures} failed fetches counted while it was down`);
  }, 180_000);
});
