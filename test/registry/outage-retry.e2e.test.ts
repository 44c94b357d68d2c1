import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAndPush, gitIn, pushingClone } from '../support/pushing-clone.js';
import { removePrefixed } from '../support/berth-objects.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { spawnBerth, type BerthRun } from '../faults/harness.js';
import { freePort } from '../support/free-port.js';
import { recordingServer } from '../support/recording-server.js';
import { OwnRegistry, pushAs, requireRegistry, uniqueImage } from '../support/registry.js';
import { until as untilShared } from '../support/until.js';

/**
 * A registry outage under `berth run` (issue 14, item 5), with a registry of
 * this file's own that it stops and starts:
 *  (a) registry down: a container removed by hand is healed from the local image;
 *  (b) a commit whose image is not on the host fails cleanly (the log names the
 *      image; the host keeps what it ran), is retried with growing backoff, and
 *      chat hears of the failure once for the revision, not once per retry;
 *  (c) registry back: the next retry converges, and chat says "Deployed" once.
 * `--interval 16s` makes the backoff 1 s, 2 s, 4 s … (1/16 of the interval, doubling).
 */
const stack = uniqueName('outage');
const container = `${stack}-api`;
let own: OwnRegistry | null = null;
let R = '';
let work = '';
let bareUrl = '';
let stateDir = '';
let port = 0;
let run: BerthRun | null = null;
let logs = '';
let chat: Awaited<ReturnType<typeof recordingServer>> | null = null;

const git = (...args: string[]) => gitIn(work, ...args);
const until = <T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 30_000) =>
  untilShared(what, fn, timeoutMs, { context: () => logs });

const commit = (message: string, files: Record<string, string>): string => commitAndPush(work, message, files);

const compose = (image: string) => `services:\n  api:\n    image: ${image}\n    container_name: ${container}\n    stop_grace_period: 1s\n    x-berth: {minReadySeconds: 0}\n`;

type LogLine = Record<string, unknown> & { msg: string };
const logLines = (msg: string): LogLine[] =>
  logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.msg === msg);

type ChatBody = { kind: string; title: string; revision: string | null; lines: string[] };
const messages = (kind: string, revision: string): ChatBody[] =>
  (chat?.received ?? []).map((r) => JSON.parse(r.body) as ChatBody).filter((m) => m.kind === kind && m.revision === revision);

type Status = { running: boolean; lastApplied: { revision: string } | null; lastResult: { outcome: string; revision: string; errors: string[] } | null };
const status = async (): Promise<Status> => (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as Status;

async function inspect(): Promise<{ id: string; image: string; running: boolean } | null> {
  const r = await docker(['inspect', '-f', '{{.Id}} {{.Image}} {{.State.Running}}', container]);
  if (r.code !== 0) return null;
  const [id, image, running] = r.stdout.trim().split(' ');
  return { id: id!, image: image!, running: running === 'true' };
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  if (!(await requireEngine())) return;
  const reg = requireRegistry();
  if (!reg) return;
  own = new OwnRegistry(reg);
  await own.start();
  R = `${own.host}/${stack}/app`;
  // Two images only in the registry: every apply that wants one must pull it.
  await Promise.all(
    ['v1', 'v2'].map(async (v) => {
      const local = `berth-local-${stack}/app:${v}`;
      ids[v] = await uniqueImage(local, `${stack}-${v}`);
      await pushAs(own!.dockerConfig, local, `${R}:${v}`);
      await docker(['rmi', local]);
    }),
  );
  const base = mkdtempSync(join(tmpdir(), 'berth-outage-'));
  stateDir = join(base, 'state');
  ({ work, url: bareUrl } = pushingClone(base));
  chat = await recordingServer();
  port = await freePort();
});

afterAll(async () => {
  if (run && run.child.exitCode === null) {
    run.child.kill('SIGTERM');
    await run.done;
  }
  await chat?.close();
  if (!own) return;
  await removePrefixed(`${stack}-`);
  await own.dispose();
  for (const v of ['v1', 'v2']) await docker(['rmi', `${R}:${v}`]);
  for (const id of Object.values(ids)) await docker(['rmi', id]);
});

describe('registry outage under berth run', () => {
  it('heals from the local image, retries a needed pull with backoff (one chat message), and converges when the registry is back', async (ctx) => {
    if (!own) ctx.skip();
    const first = commit('v1', {
      'berth.yaml': `notify:\n  - {type: webhook, url: "${chat!.url}/hook", name: recorder}\n`,
      [`stacks/${stack}/compose.yaml`]: compose(`${R}:v1`),
    });
    run = spawnBerth(['run', '--repo', bareUrl, '--branch', 'main', '--interval', '16s', '--listen', `127.0.0.1:${port}`, '--name', 'outage-host', '--insecure-webhook'], {
      BERTH_STATE_DIR: stateDir,
      DOCKER_CONFIG: own!.dockerConfig,
    });
    run.child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    run.child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    await until('v1 deployed', async () => (await status()).lastApplied?.revision === first && (await inspect())?.running);
    const v1 = (await inspect())!;
    expect(v1.image).toBe(ids.v1);
    await until('chat: v1 deployed', () => messages('sync-succeeded', first).length === 1);

    // (a) Registry down; the container removed by hand comes back from the local image.
    await own!.stop();
    expect((await docker(['rm', '-f', container])).code).toBe(0);
    await until('healed', async () => {
      const c = await inspect();
      return c && c.running && c.id !== v1.id ? c : null;
    });
    expect((await inspect())!.image).toBe(ids.v1);
    expect(logLines('image pull failed')).toEqual([]);
    const healed = (await inspect())!;

    // (b) A commit whose image is not on the host, with the registry still down.
    const second = commit('v2', { [`stacks/${stack}/compose.yaml`]: compose(`${R}:v2`) });
    expect((await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', body: '{}' })).status).toBe(202);
    const failures = () => logLines('revision failed; retrying after its backoff').filter((l) => l.revision === second);
    // The first failure and two retries.
    await until('three failed passes of v2', () => failures().length >= 3);
    const waits = failures().map((l) => l.retryInMs as number);
    expect(waits.slice(0, 3)).toEqual([1000, 2000, 4000]);
    const pullErrors = logLines('image pull failed').filter((l) => l.image === `${R}:v2`);
    expect(pullErrors.length).toBeGreaterThanOrEqual(3);
    expect(String(pullErrors[0]!.err)).toContain(`image ${R}:v2 could not be pulled from ${own!.host}`);
    const s = await status();
    expect(s.lastResult?.outcome).toBe('failed');
    expect(s.lastResult?.errors.join('\n')).toContain(`${R}:v2`);
    // Nothing on the host changed: the same container, still on v1.
    expect(await inspect()).toEqual(healed);
    await until('chat: v2 failed', () => messages('sync-failed', second).length > 0);
    expect(messages('sync-failed', second)).toHaveLength(1);
    expect(messages('sync-failed', second)[0]!.lines.join('\n')).toContain(`${R}:v2`);

    // (c) Registry back: the next retry pulls v2 and converges.
    const failedPasses = failures().length;
    await own!.start();
    await until('v2 deployed', async () => (await status()).lastApplied?.revision === second, 30_000);
    expect((await inspect())!.image).toBe(ids.v2);
    const converged = logLines('reconcile').filter((l) => l.revision === second && l.outcome === 'converged');
    expect(converged).toHaveLength(1);
    expect(converged[0]!.reasons).toContain('retry');
    await until('chat: v2 deployed', () => messages('sync-succeeded', second).length > 0);
    expect(messages('sync-succeeded', second)).toHaveLength(1);
    // Still one failure message, however many retries there were.
    expect(failures().length).toBeGreaterThanOrEqual(failedPasses);
    expect(messages('sync-failed', second)).toHaveLength(1);
  });
});
