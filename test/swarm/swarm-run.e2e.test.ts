import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCapture } from '../support/capture.js';
import { uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { requirePrivateEngines } from '../support/private-dockerd.js';
import { PrivateSwarm } from '../support/private-swarm.js';
import { commitAndPush, gitIn, pushingClone } from '../support/pushing-clone.js';
import { recordingServer } from '../support/recording-server.js';
import { until as untilShared } from '../support/until.js';

/**
 * `berth run` driving a `mode: swarm` host (a 3-node swarm of private
 * engines) from a git remote, with a chat that records what berth tells it:
 * a push deploys; a push of an image that never gets healthy is rolled back,
 * told once and not retried at that commit; a `docker service update` by
 * hand is drift, told and undone by the pass the manager's service event starts.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
const SECRET = 'webhook-secret-for-swarm-run-7c2e';
const IMAGES = ['berth-test/web:v1', 'berth-test/web:v2', 'berth-test/web:bad'];
const p = `${uniqueName('swr')}-`;
const stack = `${p}shop`;
const service = `${stack}_web`;

let engine = false;
let swarm: PrivateSwarm | null = null;
let chat: Awaited<ReturnType<typeof recordingServer>> | null = null;
let child: ChildProcess | null = null;
let logs = '';
let port = 0;
let work = '';

type ChatBody = { kind: string; host: string; title: string; lines: string[] };
const messages = (): ChatBody[] => (chat?.received ?? []).map((r) => JSON.parse(r.body) as ChatBody);
type Host = { host: string; up: boolean | null; sync: string; drift: number; held: { revision: string; services: string[] } | null; lastApplied: { revision: string } | null; lastResult: { outcome: string; revision: string } | null };
type Status = { running: boolean; reconciles: number; hosts: Host[]; stacks: { name: string; host: string; services: { name: string; summary: string; image?: string }[] }[] };

const http = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);
const status = async (): Promise<Status> => (await (await http('/api/status')).json()) as Status;
const until = <T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 45_000) => untilShared(what, fn, timeoutMs, { context: () => logs.slice(-4000) });

const berthYaml = () =>
  `notify:\n  - {type: webhook, url: "${chat!.url}/hook", name: recorder}\nrollout:\n  healthTimeoutSeconds: 30\nhosts:\n  cluster:\n    docker: ${swarm!.manager.dockerHost}\n    mode: swarm\n    stacks: ["${p}*"]\n`;
const compose = (image: string) => `services:
  web:
    image: ${image}
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      update_config: {order: start-first, parallelism: 1, failure_action: rollback, monitor: 1s}
`;
const push = (message: string, image: string) => commitAndPush(work, message, { [`stacks/${stack}/compose.yaml`]: compose(image) });

async function webhook(): Promise<void> {
  const body = JSON.stringify({ ref: 'refs/heads/main' });
  const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const r = await http('/webhook', { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sig }, body });
  expect(r.status).toBe(202);
}

/**
 * The host is idle at `revision` and `done` holds for it. (Not "the last pass
 * converged": berth's own update sends service events, whose pass is in sync.)
 */
async function settled(revision: string, done: (h: Host) => boolean): Promise<Host> {
  return until(`revision ${revision.slice(0, 12)} handled on the swarm host`, async () => {
    const s = await status();
    const h = s.hosts[0];
    return !s.running && h?.lastResult?.revision === revision && done(h) ? h : null;
  });
}
const deployed = (revision: string) => settled(revision, (h) => h.lastApplied?.revision === revision && h.held === null);

async function tasks(): Promise<string[]> {
  const r = await swarm!.docker(['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.Image}} {{.CurrentState}}']);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ').slice(0, 2).join(' ')).sort();
}

beforeAll(async () => {
  engine = await requirePrivateEngines();
  if (!engine) return;
  swarm = await PrivateSwarm.start(3, IMAGES);
  chat = await recordingServer();
  const base = mkdtempSync(join(tmpdir(), 'berth-swarm-run-'));
  const remote = pushingClone(base);
  work = remote.work;
  commitAndPush(work, 'the swarm host', { 'berth.yaml': berthYaml(), [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v1') });
  port = await freePort();
  child = spawn(process.execPath, [CLI, 'run', '--repo', remote.url, '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--name', 'swarm-e2e'], {
    env: { ...process.env, BERTH_WEBHOOK_SECRET: SECRET, BERTH_STATE_DIR: join(base, 'state') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
}, 120_000);

afterAll(async () => {
  if (child) {
    const c = child;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
  await chat?.close();
  recordCapture('berth run (swarm) stdout+stderr', logs);
  await swarm?.destroy();
}, 120_000);

describe('berth run on a swarm host', () => {
  let good = '';

  it('deploys the first commit: 3 replicas running, one "Deployed" message, the host up in /api/status and /metrics', async (ctx) => {
    if (!engine) ctx.skip();
    good = gitIn(work, 'rev-parse', 'HEAD');
    const h = await deployed(good);
    expect(h).toMatchObject({ host: 'cluster', up: true, lastApplied: { revision: good } });
    expect(await tasks()).toEqual(Array(3).fill('berth-test/web:v1 Running'));
    const s = await status();
    expect(s.stacks.map((st) => [st.name, st.host, st.services.map((x) => `${x.name} ${x.summary} ${x.image}`)])).toEqual([[stack, 'cluster', ['web 3/3 running berth-test/web:v1']]]);
    expect(await (await http('/metrics')).text()).toContain('berth_host_up{host="cluster"} 1');
    await until('the deploy told', async () => messages().length >= 1);
    expect(messages().map((m) => `${m.kind} ${m.host}`)).toEqual(['sync-succeeded cluster']);
  }, 90_000);

  it('a push of an image that never gets healthy: rolled back, told once, held — not retried at that commit', async (ctx) => {
    if (!engine) ctx.skip();
    const bad = push('web: the bad image', 'berth-test/web:bad');
    await webhook();
    const h = await settled(bad, (x) => x.held !== null);
    expect(h.held).toEqual({ revision: bad, services: [`${stack}/web`] });
    expect(await tasks()).toEqual(Array(3).fill('berth-test/web:v1 Running'));
    await until('the rollback told', async () => messages().length >= 2);
    const applies = logs.split('\n').filter((l) => l.includes('"msg":"applying to the swarm"')).length;
    // Later passes at the same commit leave the held service alone and say nothing.
    const before = (await status()).reconciles;
    await webhook();
    await until('a later pass at the bad commit', async () => {
      const s = await status();
      return !s.running && s.reconciles > before && s.hosts[0]?.lastResult?.outcome === 'in-sync' ? s : null;
    });
    expect(logs.split('\n').filter((l) => l.includes('"msg":"applying to the swarm"')).length).toBe(applies);
    expect(await swarm!.docker(['service', 'inspect', service, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}']).then((r) => r.stdout.trim())).toBe('berth-test/web:v1');
    const told = messages().slice(1);
    expect(told.map((m) => m.kind)).toEqual(['rollout-failed']);
    expect(told[0]!.title).toBe(`Rollout of ${stack}/web at ${bad.slice(0, 12)} rolled back on cluster; not retried until a new commit`);
    expect(told[0]!.lines.join('\n')).toContain(`${stack}/web: rolled back, its previous spec runs again`);
  }, 90_000);

  it('a new commit ends the hold; a `docker service update --image` by hand is told as drift and undone', async (ctx) => {
    if (!engine) ctx.skip();
    const fixed = push('web: v2', 'berth-test/web:v2');
    await webhook();
    await deployed(fixed);
    expect(await tasks()).toEqual(Array(3).fill('berth-test/web:v2 Running'));
    await until('the deploy of v2 told', async () => messages().length >= 3);

    const hand = await swarm!.docker(['service', 'update', '--detach', '--no-resolve-image', '--image', 'berth-test/web:v1', service]);
    expect(hand.code, hand.stderr).toBe(0);
    // No webhook, no interval (1h): the manager's service event starts the pass.
    await until('drift told and resolved', async () => messages().some((m) => m.kind === 'drift-resolved'), 60_000);
    const drift = messages().slice(3);
    expect(drift.map((m) => m.kind)).toEqual(['drift-appeared', 'drift-resolved']);
    expect(drift[0]!.lines).toContainEqual(`${stack}/web: service modified — expected the spec berth applied, found changed by hand: image berth-test/web:v2 → berth-test/web:v1`);
    expect(drift[1]!.title).toContain('Drift resolved on cluster');
    await until('every task back on v2', async () => {
      const t = await tasks();
      return t.length === 3 && t.every((x) => x === 'berth-test/web:v2 Running');
    });
    expect((await status()).hosts[0]).toMatchObject({ up: true, sync: 'in sync', held: null });
  }, 90_000);

  it('a worker killed: told as drift of the host, Swarm moves its tasks, berth stays in sync once they run', async (ctx) => {
    if (!engine) ctx.skip();
    const told = messages().length;
    const victim = swarm!.nodes[2]!;
    await victim.kill();
    // The manager's node event starts the pass that sees it.
    await until('the node told', async () => messages().slice(told).find((m) => m.kind === 'drift-appeared'), 60_000);
    const lines = messages().slice(told).filter((m) => m.kind === 'drift-appeared').flatMap((m) => m.lines);
    expect(lines).toContainEqual('cluster/node-3: node stopped — expected ready, found down');
    await until('3 tasks running on the two live nodes', async () => {
      const r = await swarm!.docker(['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}']);
      const t = r.stdout.split('\n').filter(Boolean);
      return t.length === 3 && t.every((l) => !l.startsWith('node-3') && l.includes('Running'));
    }, 60_000);
    // Task drift (if the pass saw Swarm mid-move) is resolved by berth's own look again; only the node stays.
    const s = await until('only the node is drift', async () => {
      const x = await status();
      return !x.running && x.hosts[0]?.drift === 1 ? x : null;
    });
    expect(s.hosts[0]).toMatchObject({ up: true, held: null, lastApplied: { revision: gitIn(work, 'rev-parse', 'HEAD') } });
    expect(messages().slice(told).map((m) => m.kind)).not.toContain('sync-failed');
  }, 90_000);
});
