// Controller benchmark: `berth run` as a long-lived child process (not a test: nothing asserts).
//
//   npm run bench:controller          build, then run this (≈ 1.5–2 min)
//
// A bare git repo over file:// with berth.yaml `policy: {prune: false}` and one
// stack (<prefix>app) of one service `berth-test/web:v1`; `berth run --interval 1h
// --listen 127.0.0.1:<free port>` with BERTH_STATE_DIR in a temp dir and
// BERTH_WEBHOOK_SECRET set. Measured:
//   1. push-to-converged: commit v1→v2 (alternating), push, send a GitHub-signed
//      push webhook, poll /api/status every 20 ms until lastApplied.revision is the
//      new commit and running is false. Median of 5.
//   2. drift and healing: `docker stop` the container (t0 just before it is spawned),
//      BENCH_HEAL_RUNS times (default 15). Drift detected: until a
//      `"msg":"drift appeared"` line for it is read from berth's stdout. Healed: until
//      Docker's `start` event for it (the bench follows `docker events`; event times are
//      the engine's, on this host's clock). berth talks to the engine through a counting
//      proxy (bench/docker-proxy.ts) that timestamps each request, so the heal splits into
//      Docker's part (t0 → `die`: the stop; start call → `start` event: the start) and
//      berth's (`die` → the `POST /containers/{id}/start` request: debounce and pass).
//      Median and p95 (nearest rank).
//   3. idle: 60 s with nothing happening, in 6 windows of 10 s; at the end of
//      each, VmRSS, RssAnon, RssFile from /proc/<pid>/status, the V8 heap (used,
//      committed) and external memory from /metrics, and the window's CPU =
//      utime+stime from /proc/<pid>/stat (clock ticks / CLK_TCK). Median of the 6.
//      Beside it the same figures of an idle bare node (`setInterval`, one timer):
//      the floor of any node process on this machine.
// BENCH_NODE_FLAGS adds node flags to berth's command line (e.g. --max-semi-space-size=1).
// Results: a markdown section on stdout; with BENCH_PART=<file> (set by
// bench/report.ts, which writes bench/results/) the figures as JSON in that file.
// The child is stopped with SIGTERM; containers/networks named <prefix>… and the
// temp dir are removed in finally.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { until as untilShared } from '../test/support/until.js';
import { CountingProxy, endpointOf, isListCall, upstreamFromEnv } from './docker-proxy.js';
import { runBench } from './bench-main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = process.env.BENCH_BERTH ?? join(ROOT, 'dist', 'bundle', 'main.js'); // BENCH_BERTH: another build, for paired runs
const RUNS = Math.max(1, Number(process.env.BENCH_PUSH_RUNS ?? 5));
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 60);
const IDLE_WINDOWS = 6;
const SECRET = `bench-secret-${randomBytes(8).toString('hex')}`;
const PREFIX = `bc${randomBytes(3).toString('hex')}-`;
const STACK = `${PREFIX}app`;
const CONTAINER = `${STACK}-web-1`;
const DRIFT_ID = `${STACK}/container/${CONTAINER}/stopped`;
const HEADING = '## Controller (berth run)';
const HEAL_RUNS = Math.max(1, Number(process.env.BENCH_HEAL_RUNS ?? 15));
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const TARGET_DRIFT_S = 2;
const TARGET_HEAL_S = 0.5;
const TARGET_RSS_MB = 70;

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* 100 */
}

const log = (m: string) => process.stderr.write(`[bench:controller] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Epoch ms with sub-ms precision: comparable with the engine's event times (same host clock). */
const now = () => performance.timeOrigin + performance.now();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** Nearest-rank percentile. */
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;

function exec(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (e, stdout, stderr) => (e ? rej(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || e.message}`)) : res(stdout.trim()))),
  );
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

// ---------------------------------------------------------------------------
// state shared with cleanup

let base = '';
let work = '';
let port = 0;
let child: ChildProcess | null = null;
let childExit: Promise<void> = Promise.resolve();
let logBuf = '';
let proxy: CountingProxy | null = null;
let eventsChild: ChildProcess | null = null;
let floorChild: ChildProcess | null = null;
/** Docker events of the bench's container: action and the engine's time (epoch ms). */
const events: { action: string; t: number }[] = [];
const eventWaiters: (() => void)[] = [];
/** Complete stdout/stderr lines, each with the time (ms, hrtime) it was read. */
const lines: { t: number; line: string }[] = [];
const lineWaiters: (() => void)[] = [];

const git = (...args: string[]) => exec('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...args], work);

function compose(image: string): string {
  return `services:\n  web:\n    image: ${image}\n`;
}

async function commit(message: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  await git('add', '-A');
  await git('commit', '-qm', message);
  return git('rev-parse', 'HEAD');
}

function start(bareUrl: string, stateDir: string): void {
  const c = spawn(process.execPath, [...NODE_FLAGS, BERTH, 'run', '--repo', bareUrl, '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, BERTH_WEBHOOK_SECRET: SECRET, BERTH_STATE_DIR: stateDir, ...(proxy ? { DOCKER_HOST: proxy.dockerHost } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  childExit = new Promise((r) => c.once('exit', () => r()));
  const onData = (d: Buffer) => {
    const t = now();
    logBuf += d.toString('utf8');
    let i: number;
    while ((i = logBuf.indexOf('\n')) >= 0) {
      lines.push({ t, line: logBuf.slice(0, i) });
      logBuf = logBuf.slice(i + 1);
    }
    for (const w of lineWaiters.splice(0)) w();
  };
  c.stdout!.on('data', onData);
  c.stderr!.on('data', onData);
}

const tail = () => lines.slice(-40).map((l) => l.line).join('\n');

async function http(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, init);
}

type Status = { running: boolean; lastApplied: { revision: string } | null; lastResult: { outcome: string; revision: string } | null };
const status = async (): Promise<Status> => (await (await http('/api/status')).json()) as Status;

const until = <T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 100) =>
  untilShared(what, fn, timeoutMs, { everyMs, context: tail });

const PUSH = JSON.stringify({ ref: 'refs/heads/main' });
function webhook(): Promise<Response> {
  const sig = `sha256=${createHmac('sha256', SECRET).update(PUSH).digest('hex')}`;
  return http('/webhook', { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sig }, body: PUSH });
}

const driftLines = () => lines.filter((l) => l.line.includes('"msg":"drift appeared"') && l.line.includes(CONTAINER));

/** Follows `docker events` for the bench's container (straight to the engine, not through the proxy). */
function followEvents(): void {
  const c = spawn('docker', ['events', '--filter', `container=${CONTAINER}`, '--format', '{{json .}}'], { stdio: ['ignore', 'pipe', 'ignore'] });
  eventsChild = c;
  let buf = '';
  c.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const e = JSON.parse(line) as { Action?: string; status?: string; timeNano?: number };
        events.push({ action: e.Action ?? e.status ?? '', t: Number(e.timeNano) / 1e6 });
      } catch {
        /* not an event line */
      }
    }
    for (const w of eventWaiters.splice(0)) w();
  });
}

async function eventAfter(action: string, t0: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = events.find((x) => x.action === action && x.t >= t0);
    if (e) return e.t;
    if (Date.now() > deadline) throw new Error(`no docker '${action}' event for ${CONTAINER} within ${timeoutMs / 1000} s\n--- berth logs ---\n${tail()}`);
    await Promise.race([new Promise<void>((r) => eventWaiters.push(r)), sleep(200)]);
  }
}

interface ProcMemory {
  ticks: number;
  rssKb: number;
  anonKb: number;
  fileKb: number;
}

function procStat(pid: number): ProcMemory {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime: fields 14 and 15 of stat(5)
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(st)?.[1] ?? NaN);
  return { ticks, rssKb: kb('VmRSS'), anonKb: kb('RssAnon'), fileKb: kb('RssFile') };
}

/** V8's own figures (prom-client's default metrics), MB. */
async function heapFigures(): Promise<{ heapUsedMb: number; heapTotalMb: number; externalMb: number }> {
  const text = await (await http('/metrics')).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  return { heapUsedMb: metric('nodejs_heap_size_used_bytes'), heapTotalMb: metric('nodejs_heap_size_total_bytes'), externalMb: metric('nodejs_external_memory_bytes') };
}

async function removePrefixed(): Promise<void> {
  const ids = (await exec('docker', ['ps', '-aq', '--filter', `name=^${PREFIX}`]).catch(() => '')).split('\n').filter(Boolean);
  if (ids.length) await exec('docker', ['rm', '-f', '-v', ...ids]).catch((e: Error) => log(e.message));
  const nets = (await exec('docker', ['network', 'ls', '-q', '--filter', `name=^${PREFIX}`]).catch(() => '')).split('\n').filter(Boolean);
  if (nets.length) await exec('docker', ['network', 'rm', ...nets]).catch((e: Error) => log(e.message));
}

async function cleanup(): Promise<void> {
  eventsChild?.kill('SIGTERM');
  eventsChild = null;
  floorChild?.kill('SIGTERM');
  floorChild = null;
  if (child) {
    const c = child;
    child = null;
    c.kill('SIGTERM');
    const done = await Promise.race([childExit.then(() => true), sleep(30_000).then(() => false)]);
    if (!done) c.kill('SIGKILL');
  }
  await proxy?.close().catch(() => undefined);
  proxy = null;
  await removePrefixed();
  if (base) rmSync(base, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(BERTH)) throw new Error(`${BERTH} missing: run npm run build`);
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  base = mkdtempSync(join(tmpdir(), 'berth-bench-ctl-'));
  const bare = join(base, 'remote.git');
  work = join(base, 'work');
  const stateDir = join(base, 'state');
  await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  await exec('git', ['init', '-q', '-b', 'main', work]);
  await git('remote', 'add', 'origin', bare);
  let image = 'berth-test/web:v1';
  const first = await commit('bench: one web service', { 'berth.yaml': 'policy: {prune: false}\n', [`stacks/${STACK}/compose.yaml`]: compose(image) });
  await git('push', '-q', 'origin', 'main');
  port = await freePort();
  const upstream = upstreamFromEnv(process.env);
  if (upstream) {
    proxy = new CountingProxy(join(base, 'docker.sock'), upstream);
    await proxy.start();
  } else log('WARNING: DOCKER_HOST is neither unix nor plain tcp: the heal is not split at the start request');
  const t0 = now();
  start(`file://${bare}`, stateDir);
  await until('readyz', async () => (await http('/readyz')).status === 200, 60_000, 50);
  await until('first converge', async () => {
    const s = await status();
    return s.lastApplied?.revision === first && !s.running;
  });
  const startupS = (now() - t0) / 1000;
  log(`berth run up and converged in ${startupS.toFixed(2)} s (pid ${child!.pid}, port ${port}, stack ${STACK})`);

  // 1. push-to-converged
  const pushS: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    image = image.endsWith(':v1') ? 'berth-test/web:v2' : 'berth-test/web:v1';
    const rev = await commit(`bench: web ${image}`, { [`stacks/${STACK}/compose.yaml`]: compose(image) });
    const t = now();
    await git('push', '-q', 'origin', 'main');
    const r = await webhook();
    if (r.status !== 202) throw new Error(`webhook answered ${r.status}`);
    await until(`revision ${rev} applied`, async () => {
      const s = await status();
      return s.lastApplied?.revision === rev && !s.running;
    }, 60_000, 20);
    pushS.push((now() - t) / 1000);
    const actual = await exec('docker', ['inspect', '-f', '{{.Config.Image}}', CONTAINER]);
    if (actual !== image) throw new Error(`after push ${i + 1}: container runs ${actual}, expected ${image}`);
    log(`push→converged ${i + 1}/${RUNS}: ${pushS[i]!.toFixed(3)} s (${image})`);
  }

  // 2. drift and healing
  followEvents();
  await sleep(500); // `docker events` subscribed before the first stop
  const driftS: number[] = [];
  const heals: Heal[] = [];
  for (let i = 0; i < HEAL_RUNS; i++) {
    const seen = driftLines().length;
    proxy?.take();
    const t = now();
    await exec('docker', ['stop', CONTAINER]);
    const stopReturned = now();
    const deadline = Date.now() + 30_000;
    while (driftLines().length <= seen) {
      if (Date.now() > deadline) throw new Error(`no "drift appeared" for ${CONTAINER} within 30 s\n--- berth logs ---\n${tail()}`);
      await Promise.race([new Promise<void>((r) => lineWaiters.push(r)), sleep(200)]);
    }
    driftS.push((driftLines()[seen]!.t - t) / 1000);
    const die = await eventAfter('die', t);
    const started = await eventAfter('start', t);
    const calls = proxy?.take() ?? [];
    const startCall = calls.find((c) => c.method === 'POST' && endpointOf(c) === 'POST /containers/{id}/start' && c.at >= t)?.at ?? null;
    // The pass's first request (its observe) tells the debounce from the pass.
    const passStart = calls.find((c) => c.at >= die && isListCall(c))?.at ?? null;
    const stopEvent = events.find((x) => x.action === 'stop' && x.t >= t)?.t ?? null;
    const heal: Heal = {
      healedS: (started - t) / 1000,
      stopS: (die - t) / 1000,
      stopCliS: (stopReturned - t) / 1000,
      stopEventS: stopEvent === null ? null : (stopEvent - die) / 1000,
      berthS: startCall === null ? null : (startCall - die) / 1000,
      debounceS: passStart === null ? null : (passStart - die) / 1000,
      passToStartS: passStart === null || startCall === null ? null : (startCall - passStart) / 1000,
      startS: startCall === null ? null : (started - startCall) / 1000,
      passes: startCall === null ? null : calls.filter((c) => c.at >= die && c.at <= startCall && endpointOf(c).startsWith('GET /containers/json')).length,
    };
    heals.push(heal);
    await until('berth idle', async () => !(await status()).running, 30_000, 50);
    const pass = lines.slice(-20).reverse().find((l) => l.line.includes('"msg":"reconcile"') && l.line.includes('"outcome":"converged"'));
    heal.passMs = pass ? Number(/"durationMs":(\d+)/.exec(pass.line)?.[1] ?? NaN) : null;
    log(
      `heal ${i + 1}/${HEAL_RUNS}: detected ${driftS[i]!.toFixed(3)} s, running again ${heal.healedS.toFixed(3)} s ` +
        `(stop → die ${heal.stopS.toFixed(3)} s, die → start call ${heal.berthS?.toFixed(3) ?? '?'} s, start call → started ${heal.startS?.toFixed(3) ?? '?'} s; \`docker stop\` returned after ${heal.stopCliS.toFixed(3)} s; pass ${heal.passMs ?? '?'} ms)`,
    );
    await sleep(1000); // let the heal pass and its events settle before the next stop
  }
  eventsChild?.kill('SIGTERM');
  eventsChild = null;

  // 3. idle, beside a bare node process (the floor of any node program here)
  await until('berth idle', async () => !(await status()).running, 30_000, 50);
  await sleep(2000);
  const pid = child!.pid!;
  floorChild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const linesBefore = lines.length;
  log(`idle for ${IDLE_S} s…`);
  const a = procStat(pid);
  const ta = now();
  // Windows, not one long span, so RSS and CPU are medians like every other figure.
  const windows: IdleWindow[] = [];
  const floor: ProcMemory[] = [];
  let prev = a;
  let tPrev = ta;
  for (let w = 0; w < IDLE_WINDOWS; w++) {
    await sleep((IDLE_S * 1000) / IDLE_WINDOWS);
    const cur = procStat(pid);
    const t = now();
    floor.push(procStat(floorChild.pid!));
    windows.push({ rssMb: cur.rssKb / 1024, anonMb: cur.anonKb / 1024, fileMb: cur.fileKb / 1024, cpuS: (cur.ticks - prev.ticks) / CLK_TCK, wallS: (t - tPrev) / 1000, ...(await heapFigures()) });
    prev = cur;
    tPrev = t;
  }
  floorChild.kill('SIGTERM');
  floorChild = null;
  const idleWallS = (tPrev - ta) / 1000;
  const idleCpuS = (prev.ticks - a.ticks) / CLK_TCK;
  const med = (f: (w: IdleWindow) => number) => median(windows.map(f));
  const rssMb = med((w) => w.rssMb);
  const rssMaxMb = Math.max(...windows.map((w) => w.rssMb));
  const memory = {
    rssMb,
    anonMb: med((w) => w.anonMb),
    fileMb: med((w) => w.fileMb),
    heapUsedMb: med((w) => w.heapUsedMb),
    heapTotalMb: med((w) => w.heapTotalMb),
    externalMb: med((w) => w.externalMb),
    floor: { rssMb: median(floor.map((f) => f.rssKb / 1024)), anonMb: median(floor.map((f) => f.anonKb / 1024)), fileMb: median(floor.map((f) => f.fileKb / 1024)) },
  };
  const cpuPctMedian = med((w) => (100 * w.cpuS) / w.wallS);
  const idleLines = lines.slice(linesBefore);
  const byMsg = new Map<string, number>();
  for (const { line } of idleLines) {
    const m = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line.slice(0, 60);
    byMsg.set(m, (byMsg.get(m) ?? 0) + 1);
  }
  const idleSummary = [...byMsg].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([m, n]) => `\`${m}\` ×${n}`).join(', ');

  // report
  const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
  const f3 = (x: number) => `${x.toFixed(3)} s`;
  const rng = (xs: number[]) => `${f3(Math.min(...xs))}–${f3(Math.max(...xs))}`;
  const mb = (x: number) => `${x.toFixed(1)} MB`;
  const healS = heals.map((h) => h.healedS);
  const parts = (f: (h: Heal) => number | null) => heals.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
  const split = (label: string, f: (h: Heal) => number | null, ms = false) => {
    const xs = parts(f);
    if (!xs.length) return `| · ${label} | not measured | | | |`;
    const show = ms ? (x: number) => `${x.toFixed(0)} ms` : f3;
    return `| · ${label} | ${show(median(xs))} | ${show(percentile(xs, 95))} | ${show(Math.min(...xs))}–${show(Math.max(...xs))} | |`;
  };
  const date = new Date().toISOString();
  const loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');
  const flags = NODE_FLAGS.length ? ` (node ${NODE_FLAGS.join(' ')})` : '';
  const md = [
    HEADING,
    '',
    `${date}: \`berth run --repo file://<bare> --interval 1h --listen 127.0.0.1:<port>\`${flags}, one stack of one \`berth-test/web\` service, \`policy: {prune: false}\`; push ${RUNS} runs, heal ${HEAL_RUNS} runs. Startup to first converge (once): ${startupS.toFixed(2)} s. Load average ${loadBefore} before, ${loadAfter} after.`,
    '',
    '| measure | median | range | target | |',
    '|---|---:|---:|---|---|',
    `| push → converged (commit v1↔v2, push, signed webhook, /api/status polled every 20 ms) | ${f3(median(pushS))} | ${rng(pushS)} | – | |`,
    `| drift detected (\`docker stop\` → \`"msg":"drift appeared"\` line read) | ${f3(median(driftS))} | ${rng(driftS)} | ≤ ${TARGET_DRIFT_S} s | ${verdict(median(driftS) <= TARGET_DRIFT_S)} |`,
    `| drift healed (\`docker stop\` → container running again), p95 ${f3(percentile(healS, 95))} | ${f3(median(healS))} | ${rng(healS)} | ≤ ${TARGET_HEAL_S} s | ${verdict(median(healS) <= TARGET_HEAL_S)} |`,
    `| idle RSS (VmRSS at the end of each of ${IDLE_WINDOWS} ${(IDLE_S / IDLE_WINDOWS).toFixed(0)} s idle windows) | ${mb(rssMb)} | ${Math.min(...windows.map((w) => w.rssMb)).toFixed(1)}–${rssMaxMb.toFixed(1)} MB | ≤ ${TARGET_RSS_MB} MB | ${verdict(rssMb <= TARGET_RSS_MB)} |`,
    `| idle CPU (utime+stime per window; ${idleCpuS.toFixed(2)} s over all ${idleWallS.toFixed(1)} s) | ${cpuPctMedian.toFixed(2)} % | ${Math.min(...windows.map((w) => (100 * w.cpuS) / w.wallS)).toFixed(2)}–${Math.max(...windows.map((w) => (100 * w.cpuS) / w.wallS)).toFixed(2)} % | – | |`,
    '',
    `Where a heal's time goes (${HEAL_RUNS} stops; Docker's event times, the proxy's time of berth's start request):`,
    '',
    '| part | median | p95 | range | |',
    '|---|---:|---:|---:|---|',
    split('`docker stop` → `die` (Docker: SIGTERM until the process exited)', (h) => h.stopS),
    split('`die` → berth sends the start (berth: event debounce, observe, plan, state)', (h) => h.berthS),
    split('  of which `die` → the first request of the pass (event delivery, debounce)', (h) => h.debounceS),
    split('  of which first request → start request (observe, plan, state files, apply)', (h) => h.passToStartS),
    split('start request → `start` event (Docker: starting the container)', (h) => h.startS),
    split('`die` → `stop` event (Docker: the end of the stop request)', (h) => h.stopEventS),
    split('the whole heal pass as berth logs it (incl. the record written after the start)', (h) => (h.passMs ?? null), true),
    split('`docker stop` CLI returned (its own process; Docker sends `stop` after `die`)', (h) => h.stopCliS),
    '',
    `Passes from \`die\` to the start request (a list call each; more than one: the engine still listed the container as running): ${heals.map((h) => h.passes ?? '?').join(', ')}.`,
    '',
    `What holds the idle memory (medians of the ${IDLE_WINDOWS} windows; a bare \`node -e 'setInterval(…)'\` sampled at the same moments is the floor of any node process here):`,
    '',
    '| | berth run | bare node | berth − node |',
    '|---|---:|---:|---:|',
    `| RSS (VmRSS) | ${mb(memory.rssMb)} | ${mb(memory.floor.rssMb)} | ${mb(memory.rssMb - memory.floor.rssMb)} |`,
    `| · file-backed (RssFile: node's own code and data pages) | ${mb(memory.fileMb)} | ${mb(memory.floor.fileMb)} | ${mb(memory.fileMb - memory.floor.fileMb)} |`,
    `| · anonymous (RssAnon: V8 heap, malloc, stacks) | ${mb(memory.anonMb)} | ${mb(memory.floor.anonMb)} | ${mb(memory.anonMb - memory.floor.anonMb)} |`,
    `| V8 heap used / committed | ${mb(memory.heapUsedMb)} / ${mb(memory.heapTotalMb)} | | |`,
    `| external (Buffers, WebAssembly memory) | ${mb(memory.externalMb)} | | |`,
    '',
    `Log lines written while idle: ${idleLines.length}${idleLines.length ? ` (${idleSummary})` : ''}.`,
    '',
  ].join('\n');
  process.stdout.write(`\n${md}`);

  if (process.env.BENCH_PART) {
    const part = {
      section: 'controller',
      date,
      loadBefore,
      loadAfter,
      runs: RUNS,
      nodeFlags: NODE_FLAGS,
      startupS,
      pushToConvergedS: { median: median(pushS), runs: pushS },
      driftDetectedS: { median: median(driftS), runs: driftS },
      driftHealedS: { median: median(healS), p95: percentile(healS, 95), runs: healS, parts: heals },
      idle: { seconds: idleWallS, cpuS: idleCpuS, rssMedianMb: rssMb, rssMaxMb, cpuPctMedian, memory, windows, logLines: idleLines.length },
      targets: [
        { what: 'drift detected (`docker stop` → "drift appeared"), median', target: `≤ ${TARGET_DRIFT_S} s`, measured: f3(median(driftS)), met: median(driftS) <= TARGET_DRIFT_S },
        { what: `drift healed (\`docker stop\` → running again), median of ${HEAL_RUNS}`, target: `≤ ${TARGET_HEAL_S} s`, measured: `${f3(median(healS))} (p95 ${f3(percentile(healS, 95))})`, met: median(healS) <= TARGET_HEAL_S },
        { what: `idle RSS of \`berth run\`, median of ${IDLE_WINDOWS} samples`, target: `≤ ${TARGET_RSS_MB} MB`, measured: `${rssMb.toFixed(1)} MB (max ${rssMaxMb.toFixed(1)} MB)`, met: rssMb <= TARGET_RSS_MB },
      ],
      markdown: md,
    };
    writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2) + '\n');
    log(`wrote ${process.env.BENCH_PART}`);
  }
}

interface Heal {
  /** `docker stop` spawned → Docker's `start` event. */
  healedS: number;
  /** → `die` event. */
  stopS: number;
  /** → the `docker stop` CLI exited. */
  stopCliS: number;
  /** `die` → Docker's `stop` event. */
  stopEventS: number | null;
  /** `die` → berth's start request (null without the proxy). */
  berthS: number | null;
  /** `die` → the heal pass's first list call. */
  debounceS: number | null;
  /** that list call → the start request. */
  passToStartS: number | null;
  /** start request → `start` event. */
  startS: number | null;
  /** Container list calls between `die` and the start request: passes berth ran to see the exit (more than 1: the engine still listed it running). */
  passes: number | null;
  /** durationMs of berth's `reconcile` line for the heal pass. */
  passMs?: number | null;
}

interface IdleWindow {
  rssMb: number;
  anonMb: number;
  fileMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  cpuS: number;
  wallS: number;
}

await runBench(main, cleanup, log);
