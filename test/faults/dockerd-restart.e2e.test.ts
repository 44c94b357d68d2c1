import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEngine, uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { PrivateDockerd } from '../support/private-dockerd.js';
import { until as untilShared } from '../support/until.js';
import { berth, fastExample, spawnBerth, type BerthRun } from './harness.js';

/**
 * `berth run` while its Docker engine restarts (issue 8, item 4). The shared
 * engine is never restarted: this test starts a private dockerd of its own
 * (test/support/private-dockerd.ts), runs the example repo on it plus a
 * service without a restart policy, stops and starts that dockerd, and
 * expects berth to stay up and ready, notice the outage, resubscribe to
 * events and converge the host again (what dockerd does not restart by
 * itself, berth starts).
 */
const IMAGES = ['berth-test/busybox:1', 'berth-test/web:v1', 'berth-test/web:v2', 'berth-test/postgres:18', 'berth-test/redis:7', 'berth-test/worker:1'];

let engine = false;
let why: string | null = null;
let dockerd: PrivateDockerd | null = null;
let run: BerthRun | null = null;
let logs = '';
let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
let port = 0;
const prefix = `${uniqueName('pd')}-`;
const job = `${prefix}batch-job-1`;


const http = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });

type Status = { running: boolean; reconciles: number; lastResult: { outcome: string; at: string } | null };
const status = async (): Promise<Status> => (await (await http('/api/status')).json()) as Status;

const until = <T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number) =>
  untilShared(what, fn, timeoutMs, { everyMs: 200, context: () => logs });

async function running(name: string): Promise<boolean> {
  return (await dockerd!.docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim() === 'true';
}

async function allRunning(): Promise<string[] | null> {
  const r = await dockerd!.docker(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
  const rows = r.stdout.split('\n').filter((l) => l.startsWith(prefix));
  return rows.length === 7 && rows.every((l) => l.endsWith(' running')) ? rows : null;
}

let repo = '';
let stateDir = '';

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  why = PrivateDockerd.unavailable();
  if (why) {
    if (process.env.CI) throw new Error(`CI: ${why}`);
    console.warn(`[dockerd-restart] skipping: ${why}`);
    return;
  }
  dockerd = await PrivateDockerd.start();
  await dockerd.loadImages(IMAGES);
  repo = fastExample(prefix);
  // A service without a restart policy: after the engine restart only berth brings it back.
  mkdirSync(join(repo, 'stacks', `${prefix}batch`));
  writeFileSync(join(repo, 'stacks', `${prefix}batch`, 'compose.yaml'), 'services:\n  job:\n    image: berth-test/worker:1\n');
  stateDir = mkdtempSync(join(tmpdir(), 'berth-dockerd-state-'));
  port = await freePort();
  run = spawnBerth(['run', '--repo', repo, '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--name', 'dockerd-restart'], {
    DOCKER_HOST: dockerd.dockerHost,
    BERTH_STATE_DIR: stateDir,
  });
  run.child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  run.child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  void run.done.then((r) => (exited = { code: r.code, signal: r.signal }));
  await until('first converge', async () => (await http('/readyz')).status === 200 && (await allRunning()), 120_000);
}, 300_000);

afterAll(async () => {
  if (run && !exited) {
    run.child.kill('SIGTERM');
    await run.done;
  }
  await dockerd?.destroy();
  if (process.env.BERTH_E2E_LOG) writeFileSync(process.env.BERTH_E2E_LOG, logs);
}, 180_000);

describe('berth run across a dockerd restart', () => {
  it('stays up and ready, reconnects to the engine and its events, and converges again', async (ctx) => {
    if (!engine || why) ctx.skip();
    const t0 = Date.now();
    // Readiness is polled the whole time: once ready, berth stays ready through an engine outage.
    const notReady: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const r = await http('/readyz');
          if (r.status !== 200) notReady.push(`${new Date().toISOString()} ${r.status}`);
        } catch (e) {
          notReady.push(`${new Date().toISOString()} ${(e as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const logMark = logs.length;
    await dockerd!.down();
    const downAt = Date.now();
    // berth notices the outage (its event stream ends) while the engine is away.
    await until('berth to notice the outage', async () => logs.slice(logMark).includes('docker event stream ended'), 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    await dockerd!.up();
    const upAt = Date.now();

    // dockerd restarts what has `restart: unless-stopped`; the job has no restart policy: only berth starts it.
    await until('everything running again', allRunning, 120_000);
    const convergedAt = Date.now();
    await until('berth idle', async () => !(await status()).running, 60_000);
    const plan = await berth(['plan', '--repo', repo], { DOCKER_HOST: dockerd!.dockerHost, BERTH_STATE_DIR: stateDir });
    expect(plan.code, plan.output).toBe(0);

    // The event stream is back: a container stopped by hand is started again long before the 1h interval.
    expect((await dockerd!.docker(['stop', job])).code).toBe(0);
    await until('the job started again by berth (events)', () => running(job), 30_000);

    polling = false;
    await poller;
    dockerd!.assertSharedBridgeIntact();
    expect(exited, 'berth run must not exit').toBeNull();
    expect(notReady).toEqual([]);
    const after = logs.slice(logMark);
    expect(after).toMatch(/"msg":"docker event stream ended"/);
    console.log(
      `[dockerd-restart] engine down ${((upAt - downAt) / 1000).toFixed(1)}s (incl. stop), host converged ${((convergedAt - upAt) / 1000).toFixed(1)}s after the engine was back; ` +
        `test ${((Date.now() - t0) / 1000).toFixed(1)}s; berth logged ${after.split('\n').filter((l) => /"level":(40|50)/.test(l)).length} warnings/errors meanwhile`,
    );
  }, 300_000);
});
