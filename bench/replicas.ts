// Rolling update of a scaled service (issue 12 item 1; not a test: nothing here asserts on time).
//
//   npm run bench:replicas                        build, then run this (≈ 2–3 min)
//   BENCH_REPLICA_ROLLOUTS=5 node dist/bench/replicas.js
//
// One stack of one service `web` (berth-test/web, HEALTHCHECK every 1 s) at
// `deploy.replicas: 3` with `update_config: {order: start-first}` (one replica
// at a time), berth.yaml `rollout: {drainSeconds: 2}`, in a local git repo.
// After a first, unmeasured apply of web:v1, BENCH_REPLICA_ROLLOUTS (default 3)
// rolling updates alternate v1→v2→v1… through `node dist/bundle/main.js apply`.
// Per rolling update: wall time of the apply process, and the requests of a
// poller container on the stack's network that GETs http://web/ every 50 ms
// (`timeout 3 wget`): total, failed on the first try (a client without
// retry), and failed again on one immediate retry (as the e2e test's client).
//
// Side by side, the same work with docker-compose (1.29): the same three
// replicas (`up -d --scale web=3`), then the same image changes, each an
// `up -d --scale web=3` (Compose recreates the replicas stop-first), under the
// same poller.
//
// Results: a markdown section on stdout; with BENCH_PART=<file> (set by
// bench/report.ts) the figures as JSON in that file. Everything created is
// removed at the end, also on failure and on SIGINT/SIGTERM/SIGHUP.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { median } from './rollout-figures.js';
import type { ReplicasPart } from './report-model.js';
import { runBench } from './bench-main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = join(ROOT, 'dist', 'bundle', 'main.js');
const ROLLOUTS = Math.max(1, Number(process.env.BENCH_REPLICA_ROLLOUTS ?? 3));
const REPLICAS = 3;
const DRAIN_S = 2;
const POLL_MS = 50;
const TAG = randomBytes(3).toString('hex');
const STACK = `bq${TAG}`;
const PROJECT = `bqc${TAG}`;
const LABEL = 'berth-bench.run';

const log = (m: string) => process.stderr.write(`[bench:replicas ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

function exec(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { ...opts, maxBuffer: 64 << 20 }, (e, stdout, stderr) => (e ? rej(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || e.message}`)) : res(stdout))),
  );
}

/** Run to exit; resolves with the exit code and wall seconds. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number | null; wallS: number; output: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child.on('error', rej);
    child.on('close', (code) => res({ code, wallS: (performance.now() - t0) / 1000, output }));
  });
}

// ---------------------------------------------------------------- the poller

const GET = 'timeout 3 wget -q -O /tmp/r http://web/ 2>/dev/null';
const LOOP = `while true; do if ${GET}; then echo ok; elif ${GET}; then echo RETRY; else echo FAIL; fi; sleep ${POLL_MS / 1000}; done`;

interface Requests {
  requests: number;
  failedBare: number;
  failedWithOneRetry: number;
}

/** Run `work` while a poller on `network` asks for `web`; the requests it made meanwhile. */
async function underPoller(network: string, work: () => Promise<void>): Promise<Requests> {
  const name = `${STACK}-poller`;
  await exec('docker', ['run', '-d', '--name', name, '--label', `${LABEL}=${TAG}`, '--network', network, 'berth-test/busybox:1', 'sh', '-c', LOOP]);
  try {
    // The first answer: the poller reaches the service before the change starts.
    for (let i = 0; i < 100 && !(await exec('docker', ['logs', name])).includes('ok'); i++) await new Promise((r) => setTimeout(r, 100));
    const before = (await exec('docker', ['logs', name])).split('\n').filter(Boolean).length;
    await work();
    const lines = (await exec('docker', ['logs', name])).split('\n').filter(Boolean).slice(before);
    return {
      requests: lines.length,
      failedBare: lines.filter((l) => l !== 'ok').length,
      failedWithOneRetry: lines.filter((l) => l === 'FAIL').length,
    };
  } finally {
    await exec('docker', ['rm', '-f', name]).catch(() => '');
  }
}

// ---------------------------------------------------------------- berth and docker-compose

let base = '';

const berthCompose = (image: string) =>
  `services:\n  web:\n    image: ${image}\n    labels:\n      ${LABEL}: "${TAG}"\n    deploy:\n      replicas: ${REPLICAS}\n      update_config:\n        order: start-first\n`;
const plainCompose = (image: string) => `version: "2.4"\nservices:\n  web:\n    image: ${image}\n    labels:\n      ${LABEL}: "${TAG}"\n`;

interface Run {
  wallS: number;
  requests: Requests;
}

async function berthRuns(): Promise<Run[]> {
  const repo = join(base, 'repo');
  const stateDir = join(base, 'state');
  mkdirSync(join(repo, 'stacks', STACK), { recursive: true });
  mkdirSync(stateDir);
  writeFileSync(join(repo, 'berth.yaml'), `policy:\n  prune: false\nrollout:\n  drainSeconds: ${DRAIN_S}\n`);
  const git = (...args: string[]) => exec('git', ['-c', 'user.name=berth-bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
  await git('init', '-q');
  const change = async (image: string) => {
    writeFileSync(join(repo, 'stacks', STACK, 'compose.yaml'), berthCompose(image));
    await git('add', '-A');
    await git('commit', '-qm', `bench: web ${image}`);
  };
  const env = { ...process.env, BERTH_STATE_DIR: stateDir };
  const apply = async () => {
    const r = await timed(process.execPath, [BERTH, 'apply', '--repo', repo], env);
    if (r.code !== 0) throw new Error(`berth apply exited ${r.code}:\n${r.output}`);
    return r;
  };
  await change('berth-test/web:v1');
  await apply();
  const runs: Run[] = [];
  for (let i = 0; i < ROLLOUTS; i++) {
    const image = i % 2 === 0 ? 'berth-test/web:v2' : 'berth-test/web:v1';
    await change(image);
    let wallS = 0;
    const requests = await underPoller(`${STACK}_default`, async () => void (wallS = (await apply()).wallS));
    log(`berth rolling update ${i + 1}/${ROLLOUTS} → ${image}: ${wallS.toFixed(2)} s, ${requests.requests} requests, ${requests.failedBare} failed bare, ${requests.failedWithOneRetry} failed with one retry (load ${load()})`);
    runs.push({ wallS, requests });
  }
  return runs;
}

async function composeRuns(): Promise<Run[]> {
  const dir = join(base, 'compose');
  mkdirSync(dir);
  const file = join(dir, 'docker-compose.yml');
  const up = async () => {
    const r = await timed('docker-compose', ['-p', PROJECT, '-f', file, 'up', '-d', '--scale', `web=${REPLICAS}`], process.env, dir);
    if (r.code !== 0) throw new Error(`docker-compose up exited ${r.code}:\n${r.output}`);
    return r;
  };
  writeFileSync(file, plainCompose('berth-test/web:v1'));
  await up();
  const runs: Run[] = [];
  for (let i = 0; i < ROLLOUTS; i++) {
    const image = i % 2 === 0 ? 'berth-test/web:v2' : 'berth-test/web:v1';
    writeFileSync(file, plainCompose(image));
    let wallS = 0;
    const requests = await underPoller(`${PROJECT}_default`, async () => void (wallS = (await up()).wallS));
    log(`docker-compose up ${i + 1}/${ROLLOUTS} → ${image}: ${wallS.toFixed(2)} s, ${requests.requests} requests, ${requests.failedBare} failed bare, ${requests.failedWithOneRetry} failed with one retry`);
    runs.push({ wallS, requests });
  }
  return runs;
}

async function cleanup(): Promise<void> {
  const ids = (await exec('docker', ['ps', '-aq', '--filter', `label=${LABEL}=${TAG}`]).catch(() => '')).split('\n').filter(Boolean);
  if (ids.length) await exec('docker', ['rm', '-f', ...ids]).catch(() => '');
  for (const n of [`${STACK}_default`, `${PROJECT}_default`]) await exec('docker', ['network', 'rm', n]).catch(() => '');
  if (base) rmSync(base, { recursive: true, force: true });
}

function summary(runs: Run[]) {
  const sum = (f: (r: Requests) => number) => runs.reduce((n, r) => n + f(r.requests), 0);
  return {
    wallMedianS: median(runs.map((r) => r.wallS)),
    wallS: runs.map((r) => Number(r.wallS.toFixed(3))),
    requests: sum((r) => r.requests),
    failedBare: sum((r) => r.failedBare),
    failedWithOneRetry: sum((r) => r.failedWithOneRetry),
  };
}

async function main(): Promise<void> {
  base = mkdtempSync(join(tmpdir(), 'berth-bench-replicas-'));
  log(`stack ${STACK}, ${REPLICAS} replicas, ${ROLLOUTS} rolling updates; load average ${load()}`);
  const berth = summary(await berthRuns());
  const compose = summary(await composeRuns().catch((e: Error) => (log(`docker-compose: ${e.message}`), [])));
  const s3 = (n: number) => `${n.toFixed(2)} s`;
  const markdown = [
    `### Rolling update of ${REPLICAS} replicas`,
    '',
    `${ROLLOUTS} image changes (web v1↔v2) of a service at \`deploy.replicas: ${REPLICAS}\`, under a client polling \`http://web/\` every ${POLL_MS} ms; berth start-first one replica at a time (drainSeconds ${DRAIN_S}); docker-compose 1.29 \`up -d --scale web=${REPLICAS}\` (stop-first).`,
    '',
    '| | wall time (median) | requests | failed, no retry | failed with one retry |',
    '|---|---|---|---|---|',
    `| berth apply (rolling) | ${s3(berth.wallMedianS)} | ${berth.requests} | ${berth.failedBare} | ${berth.failedWithOneRetry} |`,
    compose.wallS.length ? `| docker-compose up | ${s3(compose.wallMedianS)} | ${compose.requests} | ${compose.failedBare} | ${compose.failedWithOneRetry} |` : '| docker-compose up | not measured | | | |',
    '',
  ].join('\n');
  const part: ReplicasPart = {
    section: 'replicas',
    date: new Date().toISOString(),
    markdown,
    settings: { replicas: REPLICAS, rollouts: ROLLOUTS, drainSeconds: DRAIN_S, pollMs: POLL_MS },
    berth,
    compose: compose.wallS.length ? compose : null,
    targets: [{ what: `rolling update of ${REPLICAS} replicas: requests failed with one client retry`, target: '0', measured: String(berth.failedWithOneRetry), met: berth.failedWithOneRetry === 0 }],
  };
  process.stdout.write(`${markdown}\n`);
  if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2));
}

await runBench(main, cleanup, log);
