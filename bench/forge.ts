// Forge and dashboard benchmark (issue 17, Measure; not a test: nothing here asserts on time).
//
//   npm run bench:forge                  build, then run it alone
//   BENCH_FORGE_RUNS=3 node dist/bench/forge.js
//
// `berth run --repo file://<bare>` on one stack of one berth-test/web service,
// with berth.yaml `forge:` pointing at a recording fake of GitHub's REST API
// (statuses, issue comments: the calls berth makes) and `policy.selfHeal:
// false` so a stopped container stays drifted until the bench starts it.
//  - preview latency: a new head is pushed to refs/pull/1/head, a signed
//    `pull_request` delivery is posted, and the clock stops when the fake
//    receives the comment (POST or PATCH) naming that head;
//  - dashboard update latency: with the live feed (/api/events, the
//    Server-Sent Events the page reads) open, `docker stop` of the container;
//    the clock stops when an event shows the service drifted (its `drift`
//    count above 0). Then `docker start` and the same until the drift clears.
//    The stream is read by this process, not a browser: what the page would
//    receive, without the browser's render time;
//  - page weight: the bytes of `/` and every `/ui/*` asset it loads.
// Everything it creates is named/labelled with a run prefix and removed at the end.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '../test/support/until.js';
import { runBench } from './bench-main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = join(ROOT, 'dist', 'bundle', 'main.js');
const RUNS = Math.max(1, Number(process.env.BENCH_FORGE_RUNS ?? 5));
const TAG = randomBytes(3).toString('hex');
const STACK = `bf${TAG}app`;
const SECRET = `bench-hook-${TAG}`;
const TOKEN = `bench-token-${TAG}`;
const TARGET_PREVIEW_S = 5;
const TARGET_PAGE_S = 1;

const log = (m: string) => process.stderr.write(`[bench:forge ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const f3 = (s: number) => `${s.toFixed(3)} s`;
const rng = (xs: number[]) => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)} s`;
const verdict = (met: boolean) => (met ? 'met' : '**not met**');

let child: ChildProcess | null = null;
let fake: Server | null = null;
let scratch = '';

function sh(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((res, rej) => execFile(cmd, args, { cwd }, (e, out, err) => (e ? rej(new Error(`${cmd} ${args.join(' ')}: ${err || e.message}`)) : res(out.trim()))));
}

/** GitHub's statuses and issue comments, recorded with their arrival time. */
function fakeGithub(): Promise<{ url: string; comments: { id: number; body: string; at: number }[]; statuses: { sha: string; context: string; state: string }[] }> {
  const comments: { id: number; body: string; at: number }[] = [];
  const statuses: { sha: string; context: string; state: string }[] = [];
  let id = 1;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>) : {};
      const send = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { message: 'Bad credentials' });
      let m: RegExpExecArray | null;
      if ((m = /\/statuses\/([0-9a-f]+)$/.exec(path))) {
        statuses.push({ sha: m[1]!, context: body.context ?? '', state: body.state ?? '' });
        return send(201, { id: id++ });
      }
      if (/\/issues\/\d+\/comments$/.test(path)) {
        if (req.method === 'GET') return send(200, comments.map((c) => ({ id: c.id, body: c.body })));
        const c = { id: id++, body: body.body ?? '', at };
        comments.push(c);
        return send(201, { id: c.id });
      }
      if ((m = /\/issues\/comments\/(\d+)$/.exec(path))) {
        const c = comments.find((x) => x.id === Number(m![1]));
        if (!c) return send(404, { message: 'Not Found' });
        c.body = body.body ?? '';
        c.at = at;
        return send(200, { id: c.id });
      }
      send(404, { message: 'Not Found' });
    });
  });
  fake = server;
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, comments, statuses })));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Svc {
  name: string;
  drift: number;
}
/** The live feed as this process reads it: every `status` event, parsed, with its arrival time. */
function openFeed(port: number, onStatus: (services: Svc[], at: number) => void): () => void {
  const req = request({ host: '127.0.0.1', port, path: '/api/events', headers: { accept: 'text/event-stream' } }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const at = performance.now();
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = event.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const status = JSON.parse(data.slice(6)) as { stacks?: { name: string; services: Svc[] }[] };
        onStatus((status.stacks ?? []).filter((s) => s.name === STACK).flatMap((s) => s.services), at);
      }
    });
  });
  req.end();
  return () => req.destroy();
}

async function cleanup(): Promise<void> {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  fake?.close();
  const ids = await sh('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${STACK}`]).catch(() => '');
  if (ids) await sh('docker', ['rm', '-f', ...ids.split('\n')]).catch(() => '');
  const nets = await sh('docker', ['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${STACK}`]).catch(() => '');
  if (nets) await sh('docker', ['network', 'rm', ...nets.split('\n')]).catch(() => '');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  scratch = mkdtempSync(join(tmpdir(), 'berth-bench-forge-'));
  const bare = join(scratch, 'remote.git');
  const work = join(scratch, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.invalid', ...args], { cwd: work, encoding: 'utf8' }).trim();
  git('remote', 'add', 'origin', bare);
  const forge = await fakeGithub();
  const commit = (ref: string, image: string, note: string) => {
    mkdirSync(join(work, 'stacks', STACK), { recursive: true });
    writeFileSync(join(work, 'berth.yaml'), `policy:\n  selfHeal: false\nrollout:\n  bakeSeconds: 0\nforge:\n  type: github\n  url: ${forge.url}\n  repo: bench/infra\n  token: \${FORGE_TOKEN}\n`);
    writeFileSync(join(work, 'stacks', STACK, 'compose.yaml'), `services:\n  web:\n    image: ${image}\n    labels:\n      note: "${note}"\n`);
    git('add', '-A');
    git('commit', '-qm', note);
    git('push', '-q', '--force', 'origin', `HEAD:${ref}`);
    return git('rev-parse', 'HEAD');
  };
  const deployed = commit('refs/heads/main', 'berth-test/web:v1', 'deployed');
  const port = await freePort();
  let logs = '';
  child = spawn(process.execPath, [BERTH, 'run', '--repo', `file://${bare}`, '--interval', '1h', '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, BERTH_STATE_DIR: join(scratch, 'state'), BERTH_WEBHOOK_SECRET: SECRET, FORGE_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (logs = (logs + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (logs = (logs + d.toString()).slice(-20_000)));
  await until('the first deploy', () => forge.statuses.some((s) => s.sha === deployed && s.context === 'berth/deploy' && s.state === 'success'), 180_000, () => logs);
  log('deployed; measuring previews');

  const previewS: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const head = commit('refs/pull/1/head', i % 2 ? 'berth-test/web:v1' : 'berth-test/web:v2', `head ${i}`);
    const body = JSON.stringify({ action: i === 0 ? 'opened' : 'synchronize', number: 1, pull_request: { number: 1, head: { sha: head }, base: { ref: 'main' } } });
    const sig = createHmac('sha256', SECRET).update(body).digest('hex');
    const t0 = performance.now();
    const r = await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': `sha256=${sig}` }, body });
    if (r.status !== 202) throw new Error(`webhook answered ${r.status}`);
    const at = await until('the preview comment', () => forge.comments.find((c) => c.body.includes(head.slice(0, 12)))?.at, 60_000, { everyMs: 5, context: () => logs });
    // The first is a warm-up (git and the planner's first load).
    if (i > 0) previewS.push((at - t0) / 1000);
  }
  if (forge.comments.length !== 1) throw new Error(`expected one comment, the fake has ${forge.comments.length}`);

  log('measuring the live feed');
  let latest: { services: Svc[]; at: number } = { services: [], at: 0 };
  const close = openFeed(port, (services, at) => (latest = { services, at }));
  const container = await until('the container', () => sh('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${STACK}`]), 30_000);
  await until('the feed', () => latest.services.length > 0 && latest.services.every((s) => s.drift === 0), 30_000);
  const appearS: number[] = [];
  const clearS: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    await sh('docker', ['stop', '-t', '0', container]);
    let at = await until('drift on the feed', () => latest.services.some((s) => s.drift > 0) && latest.at, 60_000, { everyMs: 5, context: () => logs });
    appearS.push((at - t0) / 1000);
    t0 = performance.now();
    await sh('docker', ['start', container]);
    at = await until('drift cleared on the feed', () => latest.services.every((s) => s.drift === 0) && latest.at, 60_000, { everyMs: 5, context: () => logs });
    clearS.push((at - t0) / 1000);
  }
  close();

  const page = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
  const assets = [...page.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]!);
  const sizes = await Promise.all(assets.map(async (a) => ({ path: a, bytes: (await fetch(`http://127.0.0.1:${port}${a}`).then((r) => r.arrayBuffer())).byteLength })));
  const pageBytes = Buffer.byteLength(page) + sizes.reduce((n, s) => n + s.bytes, 0);

  const loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');
  const date = new Date().toISOString();
  const md = [
    '## Forge previews and the dashboard feed',
    '',
    `${date}: \`berth run --repo file://<bare>\`, one stack of one \`berth-test/web\` service, a recording fake of GitHub's REST API; ${RUNS} runs each after one warm-up preview. Load average ${loadBefore} before, ${loadAfter} after.`,
    '',
    '| measure | median | range | target | |',
    '|---|---:|---:|---|---|',
    `| preview: signed \`pull_request\` posted → the comment for that head received (fetch refs/pull/1/head, validate, lint, plan, post) | ${f3(median(previewS))} | ${rng(previewS)} | ≤ ${TARGET_PREVIEW_S} s | ${verdict(median(previewS) <= TARGET_PREVIEW_S)} |`,
    `| dashboard: \`docker stop\` → a feed event with the drift | ${f3(median(appearS))} | ${rng(appearS)} | ≤ ${TARGET_PAGE_S} s | ${verdict(median(appearS) <= TARGET_PAGE_S)} |`,
    `| dashboard: \`docker start\` → a feed event with the drift cleared | ${f3(median(clearS))} | ${rng(clearS)} | – | |`,
    '',
    `Page weight: ${pageBytes} bytes uncompressed for \`/\` and its ${sizes.length} assets (${[`/ ${Buffer.byteLength(page)}`, ...sizes.map((s) => `${s.path} ${s.bytes}`)].join(', ')}); no other request.`,
    '',
  ].join('\n');
  process.stdout.write(`\n${md}`);
  if (process.env.BENCH_PART) {
    const part = {
      section: 'forge',
      date,
      runs: RUNS,
      previewS: { median: median(previewS), runs: previewS },
      driftOnPageS: { median: median(appearS), runs: appearS },
      driftClearedOnPageS: { median: median(clearS), runs: clearS },
      pageBytes,
      assets: sizes,
      targets: [
        { what: 'plan preview (webhook → comment), median', target: `≤ ${TARGET_PREVIEW_S} s`, measured: f3(median(previewS)), met: median(previewS) <= TARGET_PREVIEW_S },
        { what: 'dashboard update (`docker stop` → feed event with the drift), median', target: `≤ ${TARGET_PAGE_S} s`, measured: f3(median(appearS)), met: median(appearS) <= TARGET_PAGE_S },
      ],
      markdown: md,
    };
    writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2) + '\n');
    log(`wrote ${process.env.BENCH_PART}`);
  }
}

await runBench(main, cleanup, log);
