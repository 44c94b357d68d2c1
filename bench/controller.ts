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
//   2. drift detection: `docker stop` the container (t0 just before it is spawned),
//      until a `"msg":"drift appeared"` line for it is read from berth's stdout
//      (timestamped when read). Median of 5; berth restarts the container each
//      time and we wait for it to be running and berth idle between runs.
//   3. idle: 60 s with nothing happening, in 6 windows of 10 s; at the end of
//      each, VmRSS from /proc/<pid>/status and the window's CPU = utime+stime
//      from /proc/<pid>/stat (clock ticks / CLK_TCK). Median of the 6.
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

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = join(ROOT, 'dist', 'bundle', 'main.js');
const RUNS = 5;
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 60);
const IDLE_WINDOWS = 6;
const SECRET = `bench-secret-${randomBytes(8).toString('hex')}`;
const PREFIX = `bc${randomBytes(3).toString('hex')}-`;
const STACK = `${PREFIX}app`;
const CONTAINER = `${STACK}-web-1`;
const DRIFT_ID = `${STACK}/container/${CONTAINER}/stopped`;
const HEADING = '## Controller (berth run)';
const TARGET_DRIFT_S = 2;
const TARGET_RSS_MB = 90;

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* 100 */
}

const log = (m: string) => process.stderr.write(`[bench:controller] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

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
  const c = spawn(process.execPath, [BERTH, 'run', '--repo', bareUrl, '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, BERTH_WEBHOOK_SECRET: SECRET, BERTH_STATE_DIR: stateDir },
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

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- berth logs ---\n${tail()}`);
    await sleep(everyMs);
  }
}

const PUSH = JSON.stringify({ ref: 'refs/heads/main' });
function webhook(): Promise<Response> {
  const sig = `sha256=${createHmac('sha256', SECRET).update(PUSH).digest('hex')}`;
  return http('/webhook', { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sig }, body: PUSH });
}

const driftLines = () => lines.filter((l) => l.line.includes('"msg":"drift appeared"') && l.line.includes(CONTAINER));
const running = async () => (await exec('docker', ['inspect', '-f', '{{.State.Running}}', CONTAINER])) === 'true';

function procStat(pid: number): { ticks: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime: fields 14 and 15 of stat(5)
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { ticks, rssKb: m ? Number(m[1]) : NaN };
}

async function removePrefixed(): Promise<void> {
  const ids = (await exec('docker', ['ps', '-aq', '--filter', `name=^${PREFIX}`]).catch(() => '')).split('\n').filter(Boolean);
  if (ids.length) await exec('docker', ['rm', '-f', '-v', ...ids]).catch((e: Error) => log(e.message));
  const nets = (await exec('docker', ['network', 'ls', '-q', '--filter', `name=^${PREFIX}`]).catch(() => '')).split('\n').filter(Boolean);
  if (nets.length) await exec('docker', ['network', 'rm', ...nets]).catch((e: Error) => log(e.message));
}

async function cleanup(): Promise<void> {
  if (child) {
    const c = child;
    child = null;
    c.kill('SIGTERM');
    const done = await Promise.race([childExit.then(() => true), sleep(30_000).then(() => false)]);
    if (!done) c.kill('SIGKILL');
  }
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

  // 2. drift detection
  const driftS: number[] = [];
  const healS: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const seen = driftLines().length;
    const t = now();
    await exec('docker', ['stop', CONTAINER]);
    const stopS = (now() - t) / 1000;
    const deadline = Date.now() + 30_000;
    while (driftLines().length <= seen) {
      if (Date.now() > deadline) throw new Error(`no "drift appeared" for ${CONTAINER} within 30 s\n--- berth logs ---\n${tail()}`);
      await Promise.race([new Promise<void>((r) => lineWaiters.push(r)), sleep(200)]);
    }
    driftS.push((driftLines()[seen]!.t - t) / 1000);
    await until('container running again', running, 30_000, 20);
    healS.push((now() - t) / 1000);
    await until('berth idle', async () => !(await status()).running, 30_000, 50);
    log(`drift ${i + 1}/${RUNS}: detected ${driftS[i]!.toFixed(3)} s, running again ${healS[i]!.toFixed(3)} s (docker stop took ${stopS.toFixed(3)} s)`);
    await sleep(1000); // let the heal pass and its events settle before the next stop
  }

  // 3. idle
  await until('berth idle', async () => !(await status()).running, 30_000, 50);
  await sleep(2000);
  const pid = child!.pid!;
  const linesBefore = lines.length;
  log(`idle for ${IDLE_S} s…`);
  const a = procStat(pid);
  const ta = now();
  // Windows, not one long span, so RSS and CPU are medians like every other figure.
  const windows: { rssMb: number; cpuS: number; wallS: number }[] = [];
  let prev = a;
  let tPrev = ta;
  for (let w = 0; w < IDLE_WINDOWS; w++) {
    await sleep((IDLE_S * 1000) / IDLE_WINDOWS);
    const cur = procStat(pid);
    const t = now();
    windows.push({ rssMb: cur.rssKb / 1024, cpuS: (cur.ticks - prev.ticks) / CLK_TCK, wallS: (t - tPrev) / 1000 });
    prev = cur;
    tPrev = t;
  }
  const idleWallS = (tPrev - ta) / 1000;
  const idleCpuS = (prev.ticks - a.ticks) / CLK_TCK;
  const rssMb = median(windows.map((w) => w.rssMb));
  const rssMaxMb = Math.max(...windows.map((w) => w.rssMb));
  const cpuPctMedian = median(windows.map((w) => (100 * w.cpuS) / w.wallS));
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
  const date = new Date().toISOString();
  const loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');
  const md = [
    HEADING,
    '',
    `${date}: \`berth run --repo file://<bare> --interval 1h --listen 127.0.0.1:<port>\`, one stack of one \`berth-test/web\` service, \`policy: {prune: false}\`; ${RUNS} runs each. Startup to first converge (once): ${startupS.toFixed(2)} s. Load average ${loadBefore} before, ${loadAfter} after.`,
    '',
    '| measure | median | range | target | |',
    '|---|---:|---:|---|---|',
    `| push → converged (commit v1↔v2, push, signed webhook, /api/status polled every 20 ms) | ${f3(median(pushS))} | ${rng(pushS)} | – | |`,
    `| drift detected (\`docker stop\` → \`"msg":"drift appeared"\` line read) | ${f3(median(driftS))} | ${rng(driftS)} | ≤ ${TARGET_DRIFT_S} s | ${verdict(median(driftS) <= TARGET_DRIFT_S)} |`,
    `| drift healed (\`docker stop\` → container running again) | ${f3(median(healS))} | ${rng(healS)} | – | |`,
    `| idle RSS (VmRSS at the end of each of ${IDLE_WINDOWS} ${(IDLE_S / IDLE_WINDOWS).toFixed(0)} s idle windows) | ${rssMb.toFixed(1)} MB | ${Math.min(...windows.map((w) => w.rssMb)).toFixed(1)}–${rssMaxMb.toFixed(1)} MB | ≤ ${TARGET_RSS_MB} MB | ${verdict(rssMb <= TARGET_RSS_MB)} |`,
    `| idle CPU (utime+stime per window; ${idleCpuS.toFixed(2)} s over all ${idleWallS.toFixed(1)} s) | ${cpuPctMedian.toFixed(2)} % | ${Math.min(...windows.map((w) => (100 * w.cpuS) / w.wallS)).toFixed(2)}–${Math.max(...windows.map((w) => (100 * w.cpuS) / w.wallS)).toFixed(2)} % | – | |`,
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
      startupS,
      pushToConvergedS: { median: median(pushS), runs: pushS },
      driftDetectedS: { median: median(driftS), runs: driftS },
      driftHealedS: { median: median(healS), runs: healS },
      idle: { seconds: idleWallS, cpuS: idleCpuS, rssMedianMb: rssMb, rssMaxMb, cpuPctMedian, windows, logLines: idleLines.length },
      targets: [
        { what: 'drift detected (`docker stop` → "drift appeared"), median', target: `≤ ${TARGET_DRIFT_S} s`, measured: f3(median(driftS)), met: median(driftS) <= TARGET_DRIFT_S },
        { what: `idle RSS of \`berth run\`, median of ${IDLE_WINDOWS} samples`, target: `≤ ${TARGET_RSS_MB} MB`, measured: `${rssMb.toFixed(1)} MB (max ${rssMaxMb.toFixed(1)} MB)`, met: rssMb <= TARGET_RSS_MB },
      ],
      markdown: md,
    };
    writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2) + '\n');
    log(`wrote ${process.env.BENCH_PART}`);
  }
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[sig]));
  });
}

try {
  await main();
} catch (e) {
  log(`failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
