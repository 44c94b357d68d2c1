// Start-first rollout benchmark (issue 7; not a test: nothing here asserts on time).
//
//   npm run bench:rollout                 build, then run this (≈ 1–2 min)
//   BENCH_ROLLOUTS=9 node dist/bench/rollout.js
//
// One stack (<prefix>) of one service `web` (berth-test/web, whose image
// HEALTHCHECK probes every 1 s with a 1 s start period: scripts/test-images.sh),
// berth.yaml `policy: {prune: false}` and `rollout: {drainSeconds: 2}`, in a
// local git repo (one commit per change, so each apply has a revision).
// After a first, unmeasured apply of web:v1, BENCH_ROLLOUTS (default 7)
// rollouts alternate v1→v2→v1… through `node dist/bundle/main.js apply --repo DIR`.
//
// Per rollout:
//   - wall time of the apply process (spawn → exit), and its CPU user+sys
//     (GNU time, when installed): on a loaded machine, CPU work stretches;
//   - the new container's time to healthy: its State.StartedAt to the End of
//     the first successful probe in State.Health.Log (docker inspect of the
//     final container right after the apply);
//   - overhead = wall − time to healthy − drainSeconds (the drain is
//     configured waiting, reported on its own), split into four phases at
//     berth's "Applying" and "draining" progress lines (timestamped when read)
//     and the container's StartedAt and first healthy probe;
//   - the old container's network disconnect: from the "draining" line to
//     its last `network disconnect` event (docker events);
//   - for reference, what the engine alone takes to create and start the
//     same image on the same network (two API calls, right after the rollout):
//     the floor under berth's "Applying → started" phase;
//   - requests: a poller container on the stack's network GETs http://web/
//     every 50 ms (`timeout 3 wget`; busybox-static's `wget -T` segfaults) and
//     logs the start and end of each try from /proc/uptime. Counted for the
//     tries that started during the apply: total, failed on the first try
//     (a client without retry), of those the ones in flight during the
//     disconnect, and failed again on one immediate retry (a client that
//     retries an idempotent GET once, as the e2e test's does).
// Medians over the rollouts; request counts are sums.
//
// Results: a markdown section on stdout; with BENCH_PART=<file> (set by
// bench/report.ts) the figures as JSON in that file.
// Everything created (containers named <prefix>…, the stack network, temp
// dirs) is removed at the end, on failure and on SIGINT/SIGTERM/SIGHUP.
import { execFile, spawn } from 'node:child_process';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { countRequests, dockerTimeMs, median, parsePollerLog, timeToHealthy, type HealthLogEntry, type RequestCounts } from './rollout-figures.js';
import { upstreamFromEnv } from './docker-proxy.js';
import type { Target } from './report-model.js';
import { runBench } from './bench-main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = join(ROOT, 'dist', 'bundle', 'main.js');
const ROLLOUTS = Math.max(5, Number(process.env.BENCH_ROLLOUTS ?? 7));
const DRAIN_S = 2;
const HEALTH_INTERVAL_MS = 1000; // the image's HEALTHCHECK --interval
const POLL_MS = 50;
const TARGET_OVERHEAD_S = 1;
const TAG = randomBytes(3).toString('hex');
const STACK = `br${TAG}`;
const CONTAINER = `${STACK}-web-1`;
const POLLER = `${STACK}-poller`;
const NETWORK = `${STACK}_default`;
const LABEL = 'berth-bench.run';

const log = (m: string) => process.stderr.write(`[bench:rollout ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Realtime ms with sub-ms resolution: the clock Docker's timestamps and /proc/uptime are compared with. */
const realNow = () => performance.timeOrigin + performance.now();
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

function exec(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { cwd, maxBuffer: 64 << 20 }, (e, stdout, stderr) => (e ? rej(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || e.message}`)) : res(stdout))),
  );
}

// ---------------------------------------------------------------------------
// the poller

// One GET, no retry of its own; `read … < /proc/uptime` is a shell builtin, so
// the timestamps cost no fork (busybox `date` has no %N).
const GET = 'rm -f /tmp/r; timeout 3 wget -q -O /tmp/r http://web/ 2>/dev/null';
const TRY = (tag: string) => `read s _ < /proc/uptime; if ${GET}; then read e _ < /proc/uptime; read r < /tmp/r; echo "$s $e ${tag}ok $r"; ok=1; else read e _ < /proc/uptime; echo "$s $e ${tag}FAIL"; ok=0; fi`;
const POLLER_LOOP = `while true; do ${TRY('')}; if [ $ok = 0 ]; then ${TRY('RETRY ')}; fi; sleep ${POLL_MS / 1000}; done`;

/**
 * realtime ms − /proc/uptime ms. /proc/uptime is global (no time namespace
 * in Docker 20.10), so it converts the poller's timestamps; it moves in 10 ms
 * steps, so the offset is taken at the moment it steps (error < 1 ms).
 */
function uptimeOffsetMs(): number {
  const read = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const offsets: number[] = [];
  for (let k = 0; k < 5; k++) {
    const u0 = read();
    let u = u0;
    let t = realNow();
    const end = t + 100;
    while (u === u0 && t < end) {
      u = read();
      t = realNow();
    }
    if (u !== u0) offsets.push(t - u * 1000);
  }
  if (offsets.length === 0) throw new Error('/proc/uptime does not move');
  return median(offsets);
}

// ---------------------------------------------------------------------------
// the repo and one apply

let base = '';
let repo = '';

const git = (...args: string[]) => exec('git', ['-c', 'user.name=berth-bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', ...args], repo);
const compose = (image: string) => `# generated by bench/rollout.ts (run ${TAG})\nservices:\n  web:\n    image: ${image}\n    labels:\n      ${LABEL}: "${TAG}"\n`;

async function commit(image: string): Promise<void> {
  writeFileSync(join(repo, 'stacks', STACK, 'compose.yaml'), compose(image));
  await git('add', '-A');
  await git('commit', '-qm', `bench: web ${image}`);
}

/** berth's progress lines that split a rollout into phases. */
const MARKS = { applying: /^Applying /m, draining: / draining \S+ for \d+s/ } as const;
type Mark = keyof typeof MARKS;

interface ApplyRun {
  code: number | null;
  t0: number;
  t1: number;
  /** When each mark's line was first read (realtime ms); absent if never printed. */
  marks: Partial<Record<Mark, number>>;
  /** user+sys of the apply process; null without GNU time. */
  cpuS: number | null;
  output: string;
}

const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

let current: ReturnType<typeof spawn> | null = null;

function apply(stateDir: string): Promise<ApplyRun> {
  const timeFile = join(base, 'time.txt');
  const argv = [process.execPath, BERTH, 'apply', '--repo', repo];
  if (TIME_BIN) argv.unshift(TIME_BIN, '-f', '%U %S', '-o', timeFile);
  return new Promise((res, rej) => {
    const t0 = realNow();
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, BERTH_STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a kill reaches berth under GNU time too
    });
    current = child;
    const marks: ApplyRun['marks'] = {};
    let out = '';
    const onData = (b: Buffer) => {
      const t = realNow();
      out += b.toString('utf8');
      for (const [k, re] of Object.entries(MARKS) as [Mark, RegExp][]) if (marks[k] === undefined && re.test(out)) marks[k] = t;
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', rej);
    child.on('close', (code) => {
      current = null;
      const t1 = realNow();
      let cpuS: number | null = null;
      if (TIME_BIN) {
        // GNU time prints "Command exited with non-zero status N" first when the child fails.
        const [u, sy] = (readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
        if (Number.isFinite(u) && Number.isFinite(sy)) cpuS = u! + sy!;
      }
      res({ code, t0, t1, marks, cpuS, output: out });
    });
  });
}

interface Inspected {
  Id: string;
  Config: { Image: string };
  State: { StartedAt: string; Running: boolean; Health?: { Status: string; Log: HealthLogEntry[] | null } };
}

async function inspect(name: string): Promise<Inspected> {
  return (JSON.parse(await exec('docker', ['inspect', name])) as Inspected[])[0]!;
}

const ENGINE = upstreamFromEnv(process.env);

/** One Engine API call without a client library, so nothing but the engine is timed. */
function engineCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  if (!ENGINE) return Promise.reject(new Error('DOCKER_HOST is neither unix nor plain tcp'));
  const where = ENGINE.kind === 'unix' ? { socketPath: ENGINE.path } : { host: ENGINE.host, port: ENGINE.port };
  return new Promise((res, rej) => {
    const req = request({ ...where, method, path, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (r) => {
      let data = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (data += c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: data }));
    });
    req.on('error', rej);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

/** ms the engine takes to create and start `image` on the stack network (the container is removed after). */
async function engineCreateStartMs(image: string): Promise<number> {
  const t = realNow();
  const c = await engineCall('POST', `/containers/create?name=${STACK}-ref`, { Image: image, Labels: { [LABEL]: TAG }, HostConfig: { NetworkMode: NETWORK } });
  if (c.status !== 201) throw new Error(`reference create: ${c.status} ${c.body}`);
  const id = (JSON.parse(c.body) as { Id: string }).Id;
  try {
    const s = await engineCall('POST', `/containers/${id}/start`);
    if (s.status !== 204) throw new Error(`reference start: ${s.status} ${s.body}`);
    return realNow() - t;
  } finally {
    await engineCall('DELETE', `/containers/${id}?force=true`);
  }
}

/** The end of the old container's disconnect: its last `network disconnect` event in [from, to]. */
async function disconnectedAt(containerId: string, fromMs: number, toMs: number): Promise<number | null> {
  const out = await exec('docker', ['events', '--since', (fromMs / 1000).toFixed(3), '--until', (toMs / 1000).toFixed(3), '--filter', 'type=network', '--filter', 'event=disconnect', '--format', '{{json .}}']);
  const times = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Actor: { Attributes: Record<string, string> }; timeNano: number })
    .filter((e) => e.Actor.Attributes.container === containerId)
    .map((e) => e.timeNano / 1e6);
  return times.length ? Math.max(...times) : null;
}

// ---------------------------------------------------------------------------
// cleanup

let cleaning: Promise<void> | null = null;

async function removeOwn(): Promise<void> {
  const ids = (await exec('docker', ['ps', '-aq', '--filter', `name=^${STACK}[-_]`]).catch(() => '')).split('\n').filter(Boolean);
  if (ids.length) await exec('docker', ['rm', '-f', '-v', ...ids]).catch((e: Error) => log(e.message));
  await exec('docker', ['network', 'rm', NETWORK]).catch(() => undefined);
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (current?.pid) {
      try {
        process.kill(-current.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await removeOwn();
    if (base) rmSync(base, { recursive: true, force: true });
  })();
  return cleaning;
}

// ---------------------------------------------------------------------------

export interface Rollout {
  from: string;
  to: string;
  wallS: number;
  /** CPU user+sys of the apply process; null without GNU time. */
  cpuS: number | null;
  timeToHealthyS: number;
  /** false: Docker had dropped earlier probes, so timeToHealthyS is an upper bound. */
  healthLogComplete: boolean;
  overheadS: number;
  /** overhead = the sum of these four. */
  phases: {
    /** spawn → "Applying": node, load, validate, lint, observe, plan. */
    toApplyingS: number;
    /** "Applying" → the new container's StartedAt: remove a leftover, create, start (mostly Docker). */
    applyingToStartedS: number;
    /** first healthy probe → "draining": berth's health poll (every 250 ms), rejoin with the service name. */
    healthyToDrainS: number;
    /** "draining" → exit, less drainSeconds: disconnect, stop, remove, rename, record the revision. */
    afterDrainS: number;
  };
  /** "draining" line → the old container's last network disconnect event; null when not seen. */
  disconnectS: number | null;
  /** The engine alone: create + start of the same image on the same network, right after; null when not measured. */
  engineCreateStartS: number | null;
  requests: RequestCounts;
}

async function main(): Promise<void> {
  if (!existsSync(BERTH)) throw new Error(`${BERTH} is missing: run npm run build first`);
  for (const img of ['berth-test/web:v1', 'berth-test/web:v2', 'berth-test/busybox:1']) {
    await exec('docker', ['image', 'inspect', img]).catch(() => {
      throw new Error(`missing image ${img}: run bash scripts/test-images.sh`);
    });
  }
  const loadBefore = load();
  const date = new Date().toISOString();
  base = mkdtempSync(join(tmpdir(), 'berth-bench-rollout-'));
  repo = join(base, 'repo');
  const stateDir = join(base, 'state');
  mkdirSync(join(repo, 'stacks', STACK), { recursive: true });
  // prune off: the engine is shared, and this repo knows only its own stack.
  writeFileSync(join(repo, 'berth.yaml'), `policy:\n  prune: false\nrollout:\n  drainSeconds: ${DRAIN_S}\n`);
  await exec('git', ['init', '-q', '-b', 'main', repo]);
  let image = 'berth-test/web:v1';
  await commit(image);
  const first = await apply(stateDir);
  if (first.code !== 0) throw new Error(`first apply failed (exit ${first.code}):\n${first.output}`);
  log(`stack ${STACK}: web:v1 up in ${((first.t1 - first.t0) / 1000).toFixed(2)} s; starting the poller`);

  await exec('docker', ['run', '-d', '--name', POLLER, '--label', `${LABEL}=${TAG}`, '--network', NETWORK, 'berth-test/busybox:1', 'sh', '-c', POLLER_LOOP]);
  const pollerLog = async () => exec('docker', ['logs', POLLER]);
  for (let end = Date.now() + 30_000; !(await pollerLog()).includes(' ok web v1'); ) {
    if (Date.now() > end) throw new Error(`the poller never reached web:v1:\n${await pollerLog()}`);
    await sleep(200);
  }

  const rollouts: Rollout[] = [];
  for (let i = 0; i < ROLLOUTS; i++) {
    const from = image;
    image = image.endsWith(':v1') ? 'berth-test/web:v2' : 'berth-test/web:v1';
    const old = await inspect(CONTAINER);
    await commit(image);
    const offset = uptimeOffsetMs();
    const run = await apply(stateDir);
    if (run.code !== 0) throw new Error(`rollout ${i + 1} (${from} → ${image}) failed (exit ${run.code}):\n${run.output}`);
    const now = await inspect(CONTAINER);
    if (now.Config.Image !== image || now.Id === old.Id) throw new Error(`after rollout ${i + 1}: ${CONTAINER} runs ${now.Config.Image} (${now.Id.slice(0, 12)}), expected a new ${image}`);
    const tth = timeToHealthy(now.State.StartedAt, now.State.Health?.Log ?? [], HEALTH_INTERVAL_MS);
    if (tth.ms === null) throw new Error(`rollout ${i + 1}: no successful probe in the health log of ${CONTAINER}`);
    const startedAt = dockerTimeMs(now.State.StartedAt);
    const disc = await disconnectedAt(old.Id, run.t0, run.t1 + 500);

    // Wait until the poller has logged a try that started after the apply ended, so every try of the rollout is in its log.
    const newBody = `web ${image.split(':')[1]}`;
    let requests = parsePollerLog(await pollerLog(), offset);
    for (let end = Date.now() + 15_000; !requests.some((r) => r.startMs > run.t1 && (r.body === newBody || r.retry?.body === newBody)); ) {
      if (Date.now() > end) throw new Error(`the poller did not reach ${newBody} after rollout ${i + 1}`);
      await sleep(200);
      requests = parsePollerLog(await pollerLog(), offset);
    }
    const { applying, draining } = run.marks;
    if (applying === undefined || draining === undefined) throw new Error(`rollout ${i + 1}: berth printed no "Applying" or "draining" line:\n${run.output}`);
    const counts = countRequests(requests, { fromMs: run.t0, toMs: run.t1 }, disc !== null ? { fromMs: draining, toMs: disc } : null);

    const wallMs = run.t1 - run.t0;
    const healthyAt = startedAt + tth.ms;
    const r: Rollout = {
      from,
      to: image,
      wallS: wallMs / 1000,
      cpuS: run.cpuS,
      timeToHealthyS: tth.ms / 1000,
      healthLogComplete: tth.complete,
      overheadS: (wallMs - tth.ms - DRAIN_S * 1000) / 1000,
      phases: {
        toApplyingS: (applying - run.t0) / 1000,
        applyingToStartedS: (startedAt - applying) / 1000,
        healthyToDrainS: (draining - healthyAt) / 1000,
        afterDrainS: (run.t1 - draining) / 1000 - DRAIN_S,
      },
      disconnectS: disc !== null ? (disc - draining) / 1000 : null,
      engineCreateStartS: ENGINE ? (await engineCreateStartMs(image)) / 1000 : null,
      requests: counts,
    };
    rollouts.push(r);
    log(
      `rollout ${i + 1}/${ROLLOUTS} ${from.split(':')[1]}→${image.split(':')[1]}: apply ${r.wallS.toFixed(3)} s, healthy after ${r.timeToHealthyS.toFixed(3)} s${tth.complete ? '' : ' (≤, probes dropped)'}, ` +
        `overhead ${r.overheadS.toFixed(3)} s (Applying→started ${r.phases.applyingToStartedS.toFixed(3)} s, engine alone ${r.engineCreateStartS?.toFixed(3) ?? '?'} s), disconnect ${r.disconnectS?.toFixed(3) ?? '?'} s; ` +
        `requests ${counts.total}, failed ${counts.failedBare} bare (${counts.failedBareInDisconnect} in the disconnect), ${counts.failedWithOneRetry} with one retry`,
    );
    await sleep(1000); // the old container's removal and the poller settle before the next change
  }

  const figures = summarise(rollouts);
  const section = {
    section: 'rollout',
    date,
    loadBefore,
    loadAfter: load(),
    settings: { drainSeconds: DRAIN_S, healthcheck: 'image HEALTHCHECK --interval=1s --timeout=2s --retries=3 --start-period=1s', pollMs: POLL_MS, rollouts: ROLLOUTS },
    rollouts,
    ...figures,
  };
  const md = markdown(section);
  process.stdout.write(`\n${md}`);
  if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify({ ...section, markdown: md }, null, 2) + '\n');
}

function summarise(rs: Rollout[]) {
  const sum = (f: (c: RequestCounts) => number) => rs.reduce((a, r) => a + f(r.requests), 0);
  const med = (f: (r: Rollout) => number | null) => median(rs.map(f).filter((x): x is number => x !== null && Number.isFinite(x)));
  const medians = {
    wallS: med((r) => r.wallS),
    cpuS: med((r) => r.cpuS),
    timeToHealthyS: med((r) => r.timeToHealthyS),
    overheadS: med((r) => r.overheadS),
    toApplyingS: med((r) => r.phases.toApplyingS),
    applyingToStartedS: med((r) => r.phases.applyingToStartedS),
    healthyToDrainS: med((r) => r.phases.healthyToDrainS),
    afterDrainS: med((r) => r.phases.afterDrainS),
    disconnectS: med((r) => r.disconnectS),
    engineCreateStartS: med((r) => r.engineCreateStartS),
  };
  const totals = {
    requests: sum((c) => c.total),
    failedBare: sum((c) => c.failedBare),
    failedBareInDisconnect: sum((c) => c.failedBareInDisconnect),
    failedWithOneRetry: sum((c) => c.failedWithOneRetry),
    rolloutsWithBareFailure: rs.filter((r) => r.requests.failedBare > 0).length,
  };
  const targets: Target[] = [
    {
      what: 'start-first rollout overhead (apply wall − time to healthy − drain), median',
      target: `≤ ${TARGET_OVERHEAD_S} s`,
      measured: `${medians.overheadS.toFixed(3)} s (apply ${medians.wallS.toFixed(3)} s, healthy after ${medians.timeToHealthyS.toFixed(3)} s, drain ${DRAIN_S} s)`,
      met: medians.overheadS <= TARGET_OVERHEAD_S,
    },
    {
      what: `requests failed during ${rs.length} start-first switches, client without retry`,
      target: '0',
      measured: `${totals.failedBare} of ${totals.requests} (${totals.failedBareInDisconnect} in the disconnect window; ${totals.rolloutsWithBareFailure} of ${rs.length} switches)`,
      met: totals.failedBare === 0,
    },
    {
      what: `requests failed during ${rs.length} start-first switches, client retrying once`,
      target: '0',
      measured: `${totals.failedWithOneRetry} of ${totals.requests}`,
      met: totals.failedWithOneRetry === 0,
    },
  ];
  return { medians, totals, targets };
}

function markdown(s: { date: string; loadBefore: string; loadAfter: string; rollouts: Rollout[] } & ReturnType<typeof summarise>): string {
  const f3 = (x: number | null) => (x === null || !Number.isFinite(x) ? '?' : `${x.toFixed(3)} s`);
  const rng = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
    return v.length ? `${f3(Math.min(...v))}–${f3(Math.max(...v))}` : '';
  };
  const { medians: m, totals: t, rollouts: rs } = s;
  const L = [
    '## Start-first rollout',
    '',
    `${s.date}: one stack, one service \`web\` (\`berth-test/web\`, image HEALTHCHECK every 1 s, start period 1 s), berth.yaml \`rollout: {drainSeconds: ${DRAIN_S}}\` (no Traefik, so no bake), ` +
      `${rs.length} rollouts alternating v1↔v2, each \`node dist/bundle/main.js apply --repo DIR\` after a git commit. ` +
      `A poller container on the stack network GETs \`http://web/\` every ${POLL_MS} ms (\`timeout 3 wget\`), and on a failure retries once at once. Load average ${s.loadBefore} before, ${s.loadAfter} after.`,
    '',
    '| measure | median | range | target | |',
    '|---|---:|---:|---|---|',
    `| apply wall time (spawn → exit) | ${f3(m.wallS)} | ${rng(rs.map((r) => r.wallS))} | – | |`,
    `| apply CPU user+sys (the share of the wall time berth computes; the rest is waiting for Docker, the health check, the drain — or for a CPU) | ${f3(m.cpuS)} | ${rng(rs.map((r) => r.cpuS))} | – | |`,
    `| new container time to healthy (StartedAt → first healthy probe's End) | ${f3(m.timeToHealthyS)} | ${rng(rs.map((r) => r.timeToHealthyS))} | – | |`,
    `| drain (configured \`drainSeconds\`, not overhead) | ${DRAIN_S}.000 s | | – | |`,
    `| **overhead** = apply − healthy − drain | ${f3(m.overheadS)} | ${rng(rs.map((r) => r.overheadS))} | ≤ ${TARGET_OVERHEAD_S} s | ${m.overheadS <= TARGET_OVERHEAD_S ? 'met' : '**not met**'} |`,
    `| · spawn → "Applying" (node start, load, validate, lint, observe, plan) | ${f3(m.toApplyingS)} | ${rng(rs.map((r) => r.phases.toApplyingS))} | | |`,
    `| · "Applying" → new container started (create and start it: mostly Docker) | ${f3(m.applyingToStartedS)} | ${rng(rs.map((r) => r.phases.applyingToStartedS))} | | |`,
    `| · healthy → "draining" (berth's 250 ms health poll, rejoin under the service name) | ${f3(m.healthyToDrainS)} | ${rng(rs.map((r) => r.phases.healthyToDrainS))} | | |`,
    `| · "draining" → exit, less the drain (disconnect, stop, remove, rename, record) | ${f3(m.afterDrainS)} | ${rng(rs.map((r) => r.phases.afterDrainS))} | | |`,
    `| for reference: the engine alone creates and starts the same image (2 API calls) | ${f3(m.engineCreateStartS)} | ${rng(rs.map((r) => r.engineCreateStartS))} | | |`,
    `| old container's network disconnect ("draining" line → last disconnect event) | ${f3(m.disconnectS)} | ${rng(rs.map((r) => r.disconnectS))} | – | |`,
    '',
    'The four phases make up the overhead of each rollout; their medians, taken one by one, need not add up to the median overhead.',
    '',
    '| requests during the switches (sum over all) | count | target | |',
    '|---|---:|---|---|',
    `| requests (first tries started while apply ran) | ${t.requests} | | |`,
    `| **failed, no retry** | ${t.failedBare} (in ${t.rolloutsWithBareFailure} of ${rs.length} switches) | 0 | ${t.failedBare === 0 ? 'met' : '**not met**'} |`,
    `| · of those, in flight during the old container's disconnect | ${t.failedBareInDisconnect} | | |`,
    `| **failed with one retry** (what a retrying client or proxy sees) | ${t.failedWithOneRetry} | 0 | ${t.failedWithOneRetry === 0 ? 'met' : '**not met**'} |`,
    '',
  ];
  if (rs.some((r) => !r.healthLogComplete)) L.push('Docker had dropped early probes from the health log of some containers (it keeps 5): their time to healthy is an upper bound, so their overhead a lower bound.', '');
  L.push('Per rollout:', '', '| # | change | apply | healthy after | overhead | disconnect | requests | failed bare (in disconnect) | failed with retry |', '|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  rs.forEach((r, i) =>
    L.push(
      `| ${i + 1} | ${r.from.split(':')[1]}→${r.to.split(':')[1]} | ${f3(r.wallS)} | ${f3(r.timeToHealthyS)}${r.healthLogComplete ? '' : ' (≤)'} | ${f3(r.overheadS)} | ${f3(r.disconnectS)} | ${r.requests.total} | ${r.requests.failedBare} (${r.requests.failedBareInDisconnect}) | ${r.requests.failedWithOneRetry} |`,
    ),
  );
  L.push('');
  const failed = rs.flatMap((r, i) => r.requests.failures.map((f) => ({ i, ...f })));
  if (failed.length) {
    const when = (ms: number | null) => (ms === null ? 'at an unknown time' : `${Math.abs(ms / 1000).toFixed(3)} s ${ms < 0 ? 'before' : 'after'} "draining"`);
    L.push(
      'Failed first tries: ' +
        failed.map((f) => `#${f.i + 1} started ${when(f.sinceDisconnectMs)}, failed after ${(f.durationMs / 1000).toFixed(3)} s, retry ${f.retryOk ? 'answered' : 'failed too'}`).join('; ') +
        '.',
      '',
    );
  }
  return L.join('\n');
}

await runBench(main, cleanup, log);
