// No-op pass benchmark (not a test: nothing here asserts on time).
//
//   npm run bench                       build, then run everything (≈ 3–5 min on 2 cores)
//   BENCH_N=10,50 BENCH_RUNS=3 node dist/bench/run.js    a quicker pass
//   BENCH_PROFILE_N=200 …               profile the no-op plan at another N (default 50);
//                                       the profile is kept as bench/results/plan-n<N>.cpuprofile
//
// For N stand-in services (berth-test/web:v1 and berth-test/worker:1, one
// network per stack, env vars and labels, no ports), two layouts:
//   single: one stack of N services — the fair comparison: one `docker-compose
//           -p <stack> -f <file> up -d` (one compose process, as a user types it)
//           against one `berth apply` (one berth process);
//   multi:  five stacks of N/5 — `docker-compose up -d` for each stack, one after
//           the other in one `sh` loop (five compose processes, Python's start-up
//           five times), against one `berth apply` of the five.
// For each, the host is brought to the desired state twice: once by `berth apply`
// (stacks <prefix>n<N><s|m>b…) and once by docker-compose on a copy of the same
// files under other project names (<prefix>n<N><s|m>c…), so each tool has its own
// containers. Then the no-op pass of each is timed: `berth apply` (exit 0, no op)
// against `docker-compose up -d` ("is up-to-date" for every service).
// Beside the CLI time: the in-process pass (bench/pass.ts: `reconcile` in apply
// mode with the desired state cached, the engine's list calls answered from
// memory) for N services, i.e. what a pass of `berth run` costs berth itself.
//
// Per tool and N: wall time (median and min of BENCH_RUNS runs after one
// warm-up, runs of the two tools interleaved), CPU user+sys and peak RSS
// (GNU time: wait4 rusage of the child, which includes its waited-for
// descendants — for the compose loop, all docker-compose processes; peak RSS
// is that of the largest single process), and Docker API calls, counted in one
// extra run through a counting unix-socket proxy (timed runs talk to the
// engine directly, so the proxy's own latency is in no wall time).
// BENCH_LAYOUTS=single (or multi) runs one layout only.
//
// Also: the pure planner on 1,000 services (dist/bench/planner.js), and one
// `node --cpu-prof` profile of a no-op `berth plan` at N=50 (single stack),
// summarised as self time per package. Results: markdown tables on stdout; with
// BENCH_PART=<file> (set by bench/report.ts, which writes bench/results/) the
// same figures as JSON in that file.
//
// Healthchecks are disabled in the generated services: with the image's 1 s
// probe, 2×N idle containers would fork a probe process every second each
// and load the machine while it is measured.
//
// Everything the bench creates (containers, networks, volumes: all labelled
// berth-bench.run=<tag> and named <prefix>…; temp dirs; the proxy socket) is
// removed at the end, on failure, and on SIGINT/SIGTERM/SIGHUP.
import { spawn, execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CountingProxy, isListCall, tally, upstreamFromEnv, type ApiCall } from './docker-proxy.js';
import { summariseFile, type PackageTime } from './cpu-profile.js';
import { passTimes } from './pass.js';
import { runBench } from './bench-main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = join(ROOT, 'dist', 'bundle', 'main.js');
const PLANNER = join(ROOT, 'dist', 'bench', 'planner.js');
const RESULTS = join(ROOT, 'bench', 'results');

const SIZES = (process.env.BENCH_N ?? '10,50,200').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
/** Stacks of the multi-stack layout. */
const STACKS = 5;
type Layout = 'single' | 'multi';
const LAYOUTS: Layout[] = (process.env.BENCH_LAYOUTS ?? 'single,multi').split(',').map((x) => x.trim()).filter((x): x is Layout => x === 'single' || x === 'multi');
const stacksOf = (layout: Layout) => (layout === 'single' ? 1 : STACKS);
const PROFILE_N = Number(process.env.BENCH_PROFILE_N ?? 50);
const TAG = randomBytes(3).toString('hex');
const PREFIX = `bb${TAG}`;
const LABEL = 'berth-bench.run';
const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

// ---------------------------------------------------------------------------
// running children

interface Measured {
  code: number | null;
  wallS: number;
  /** user+sys of the child and its waited-for descendants; null when unknown. */
  cpuS: number | null;
  userS: number | null;
  sysS: number | null;
  /** Peak RSS of the largest single process, KiB; null when unknown. */
  maxRssKb: number | null;
  stdout: string;
  stderr: string;
}

let current: ReturnType<typeof spawn> | null = null;
let currentClosed: Promise<void> = Promise.resolve();
let scratch = '';

/** /proc/self/stat cutime+cstime (clock ticks, 100 Hz): the fallback CPU figure when GNU time is missing. */
function childTicks(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[13]) + Number(f[14]); // fields 16 and 17 of stat(5), counted from field 3
  } catch {
    return null;
  }
}

function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<Measured> {
  const timeFile = join(scratch, `time-${process.hrtime.bigint()}.txt`);
  const argv = TIME_BIN ? [TIME_BIN, '-f', '%e %U %S %M', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const ticks0 = childTicks();
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    // Asynchronous on purpose: the counting proxy lives in this process's event loop.
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd: scratch, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    currentClosed = new Promise((r) => child.once('close', () => r()));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => killCurrent('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      current = null;
      reject(e);
    });
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      current = null;
      let userS: number | null = null;
      let sysS: number | null = null;
      let maxRssKb: number | null = null;
      if (TIME_BIN) {
        try {
          // GNU time prints "Command exited with non-zero status N" first when the child fails.
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          const [, u, s, m] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
          userS = u ?? null;
          sysS = s ?? null;
          maxRssKb = m ?? null;
          rmSync(timeFile, { force: true });
        } catch {
          /* killed before time wrote its line */
        }
      } else {
        const ticks1 = childTicks();
        if (ticks0 !== null && ticks1 !== null) userS = (ticks1 - ticks0) / 100; // user+sys together
        sysS = 0;
      }
      resolvePromise({
        code,
        wallS,
        userS,
        sysS,
        cpuS: userS !== null && sysS !== null ? userS + sysS : null,
        maxRssKb,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function killCurrent(signal: NodeJS.Signals): void {
  const c = current;
  if (!c?.pid) return;
  try {
    process.kill(-c.pid, signal); // the whole group: the sh loop and its docker-compose
  } catch {
    /* gone */
  }
}

function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 64 << 20 }, (e, stdout, stderr) =>
      e ? rej(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || e.message}`)) : res(stdout),
    ),
  );
}

const tryExec = (cmd: string, args: string[]) => exec(cmd, args).then((s) => s.trim(), (e: Error) => `unavailable (${e.message.split('\n')[0]})`);

// ---------------------------------------------------------------------------
// the desired state

/**
 * Each network gets its own /24 in 10.<200–249>.x.0, outside Docker's default
 * address pools: those hold 31 bridge networks on Engine 20.10, and on an
 * engine shared with test suites they run out ("could not find an available,
 * non-overlapping IPv4 address pool") before the 10 networks of one N exist.
 */
const NET_OCTET = 200 + (parseInt(TAG, 16) % 50);
const subnet = (n: number, layout: Layout, tool: 'berth' | 'compose', stack: number) =>
  `10.${NET_OCTET}.${(SIZES.indexOf(n) * 2 + (layout === 'multi' ? 1 : 0)) * 10 + (tool === 'compose' ? 5 : 0) + stack - 1}.0/24`;

function composeFile(per: number, stack: number, net: string): string {
  const lines = [
    `# generated by bench/run.ts (run ${TAG}): ${per} services`,
    'networks:',
    '  net:',
    '    labels:',
    `      ${LABEL}: "${TAG}"`,
    '    ipam:',
    '      config:',
    `        - subnet: ${net}`,
    'services:',
  ];
  for (let i = 1; i <= per; i++) {
    const web = i % 2 === 1;
    const name = `${web ? 'web' : 'worker'}${String(i).padStart(2, '0')}`;
    lines.push(
      `  ${name}:`,
      `    image: ${web ? 'berth-test/web:v1' : 'berth-test/worker:1'}`,
      '    restart: unless-stopped',
      '    environment:',
      '      APP_ENV: bench',
      '      LOG_LEVEL: info',
      `      STACK_INDEX: "${stack}"`,
      `      SERVICE_INDEX: "${i}"`,
      '    labels:',
      `      ${LABEL}: "${TAG}"`,
      `      bench.role: ${web ? 'web' : 'worker'}`,
      '    networks: [net]',
      '    healthcheck:',
      '      disable: true',
    );
  }
  return lines.join('\n') + '\n';
}

interface Repos {
  /** All stacks together. */
  services: number;
  berthRepo: string;
  berthStacks: string[];
  composeRepo: string;
  composeStacks: string[];
}

async function writeRepos(n: number, layout: Layout): Promise<Repos> {
  const berthRepo = join(scratch, `berth-${n}-${layout}`);
  const composeRepo = join(scratch, `compose-${n}-${layout}`);
  const berthStacks: string[] = [];
  const composeStacks: string[] = [];
  const stacks = stacksOf(layout);
  const l = layout === 'single' ? 's' : 'm';
  for (let k = 1; k <= stacks; k++) {
    const b = `${PREFIX}n${n}${l}b${k}`;
    const c = `${PREFIX}n${n}${l}c${k}`;
    berthStacks.push(b);
    composeStacks.push(c);
    mkdirSync(join(berthRepo, 'stacks', b), { recursive: true });
    mkdirSync(join(composeRepo, c), { recursive: true });
    writeFileSync(join(berthRepo, 'stacks', b, 'compose.yaml'), composeFile(n / stacks, k, subnet(n, layout, 'berth', k)));
    writeFileSync(join(composeRepo, c, 'compose.yaml'), composeFile(n / stacks, k, subnet(n, layout, 'compose', k)));
  }
  // prune off: the engine is shared (tests, other benches), and with the default
  // `prune: true` berth apply would remove every berth-managed object on the host
  // that is not in this repo — and fail on ones it cannot remove.
  writeFileSync(join(berthRepo, 'berth.yaml'), 'policy:\n  prune: false\n');
  // A desired-state repo is a git checkout: berth reads its revision with two git calls.
  const git = ['-c', 'user.name=berth-bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false'];
  await exec('git', ['init', '-q'], { cwd: berthRepo });
  await exec('git', ['add', '.'], { cwd: berthRepo });
  await exec('git', [...git, 'commit', '-qm', `bench: ${n} services`], { cwd: berthRepo });
  return { services: n, berthRepo, berthStacks, composeRepo, composeStacks };
}

// ---------------------------------------------------------------------------
// the two tools

const COMPOSE_LOOP = 'root="$1"; shift; for s in "$@"; do docker-compose -p "$s" -f "$root/$s/compose.yaml" up -d || exit $?; done';

function berthEnv(r: Repos, dockerHost: string): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: dockerHost, BERTH_STATE_DIR: `${r.berthRepo}.state` };
}

/**
 * docker-compose 1.29 runs services and each service's containers in nested
 * parallel_execute calls that share one COMPOSE_PARALLEL_LIMIT (default 64): with
 * more services than slots, every slot is held by a service waiting for a slot
 * for its container, and `up -d` hangs for good (seen here at N=200: 30 of 200
 * made, then nothing for 10 minutes; with the limit at 2 nothing at all). Raising
 * the limit above twice the services is the documented way out, and what a user
 * of a 200-service file has to do.
 */
function composeEnv(dockerHost: string, services: number): NodeJS.ProcessEnv {
  const limit = Math.max(64, 2 * services + 4);
  return { ...process.env, DOCKER_HOST: dockerHost, COMPOSE_PARALLEL_LIMIT: process.env.COMPOSE_PARALLEL_LIMIT ?? String(limit) };
}

const berthPlan = (r: Repos, host: string, extraNode: string[] = []) => measure(process.execPath, [...extraNode, BERTH, 'plan', '--repo', r.berthRepo], berthEnv(r, host));
const berthApply = (r: Repos, host: string) => measure(process.execPath, [BERTH, 'apply', '--repo', r.berthRepo], berthEnv(r, host));
/** One stack: one docker-compose process, no shell around it; several: the shell loop. */
const composeUp = (r: Repos, host: string) =>
  r.composeStacks.length === 1
    ? measure('docker-compose', ['-p', r.composeStacks[0]!, '-f', join(r.composeRepo, r.composeStacks[0]!, 'compose.yaml'), 'up', '-d'], composeEnv(host, r.services))
    : measure('sh', ['-c', COMPOSE_LOOP, 'sh', r.composeRepo, ...r.composeStacks], composeEnv(host, r.services / r.composeStacks.length));

/** A no-op `berth apply` exits 0 and applies nothing (its summary line says so). */
function berthApplyWasNoop(m: Measured): boolean {
  return m.code === 0 && /no changes/i.test(m.stdout + m.stderr);
}

function tail(m: Measured): string {
  return (m.stderr.trim() + '\n' + m.stdout.trim()).trim().split('\n').slice(-8).join('\n');
}

/** A no-op compose pass says "<container> is up-to-date" once per service and creates nothing. */
function composeWasNoop(m: Measured, n: number): boolean {
  const text = m.stderr + m.stdout;
  return m.code === 0 && (text.match(/is up-to-date/g) ?? []).length === n && !/Creating|Recreating|Starting/.test(text);
}

// ---------------------------------------------------------------------------
// cleanup

let proxy: CountingProxy | null = null;
let cleaning: Promise<void> | null = null;
const dockerHostDirect = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';

/** Remove what this run created; returns what could not be removed. */
async function removeDockerObjects(): Promise<string[]> {
  const ids = async (kind: 'ps' | 'network' | 'volume', filter: string) => {
    const args = kind === 'ps' ? ['ps', '-aq', '--filter', filter] : [kind, 'ls', '-q', '--filter', filter];
    return (await exec('docker', args).catch(() => '')).split('\n').map((s) => s.trim()).filter(Boolean);
  };
  const find = async (kind: 'ps' | 'network' | 'volume') => [...new Set([...(await ids(kind, `label=${LABEL}=${TAG}`)), ...(await ids(kind, `name=${PREFIX}`))])];
  const left: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    left.length = 0;
    // Stop first, then remove: `docker rm -f` on many running containers of one
    // network at once leaks the network's endpoint count on Engine 20.10
    // (moby#42119, moby#43286: "has active endpoints" with no container left,
    // until dockerd restarts).
    const containers = await find('ps');
    for (let i = 0; i < containers.length; i += 50) await exec('docker', ['stop', '-t', '2', ...containers.slice(i, i + 50)]).catch(() => '');
    for (let i = 0; i < containers.length; i += 50) await exec('docker', ['rm', '-f', '-v', ...containers.slice(i, i + 50)]).catch(() => '');
    for (const id of await find('network')) await exec('docker', ['network', 'rm', id]).catch((e: Error) => left.push(`network ${id}: ${e.message}`));
    for (const id of await find('volume')) await exec('docker', ['volume', 'rm', '-f', id]).catch((e: Error) => left.push(`volume ${id}: ${e.message}`));
    for (const id of await find('ps')) left.push(`container ${id}`);
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  if (left.length) log(`WARNING: could not remove:\n  ${left.join('\n  ')}`);
  return left;
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killCurrent('SIGKILL');
    // let a killed apply finish dying before listing what it left behind
    await Promise.race([currentClosed, new Promise((r) => setTimeout(r, 5000))]);
    await proxy?.close().catch(() => undefined);
    await removeDockerObjects();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  })();
  return cleaning;
}

// ---------------------------------------------------------------------------
// statistics and output

interface ToolFigures {
  wallMedianS: number;
  wallMinS: number;
  cpuMedianS: number | null;
  userMedianS: number | null;
  sysMedianS: number | null;
  maxRssMedianKb: number | null;
  runs: { wallS: number; cpuS: number | null; maxRssKb: number | null; code: number | null }[];
  apiCalls: number;
  listCalls: number;
  endpoints: [string, number][];
  allNoop: boolean;
}

interface SizeResult {
  n: number;
  layout: Layout;
  stacks: number;
  /** bench/pass.ts for N services: the pass without process start-up, CLI parsing or the engine. */
  inProcess: { medianMs: number; cpuMedianMs: number; minMs: number } | null;
  setup: { berthApplyS: number; composeUpS: number };
  berth: ToolFigures;
  compose: ToolFigures;
  speedup: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const medianOrNull = (xs: (number | null)[]) => (xs.every((x) => x !== null) ? median(xs as number[]) : null);

function figures(runs: Measured[], calls: ApiCall[], noop: boolean[]): ToolFigures {
  return {
    wallMedianS: median(runs.map((r) => r.wallS)),
    wallMinS: Math.min(...runs.map((r) => r.wallS)),
    cpuMedianS: medianOrNull(runs.map((r) => r.cpuS)),
    userMedianS: medianOrNull(runs.map((r) => r.userS)),
    sysMedianS: medianOrNull(runs.map((r) => r.sysS)),
    maxRssMedianKb: medianOrNull(runs.map((r) => r.maxRssKb)),
    runs: runs.map((r) => ({ wallS: r.wallS, cpuS: r.cpuS, maxRssKb: r.maxRssKb, code: r.code })),
    apiCalls: calls.length,
    listCalls: calls.filter(isListCall).length,
    endpoints: tally(calls),
    allNoop: noop.every(Boolean),
  };
}

const s3 = (x: number) => `${x.toFixed(3)} s`;
const s2 = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)} s`);
const mb = (kb: number | null) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

function log(msg: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

// ---------------------------------------------------------------------------

async function benchSize(n: number, layout: Layout, profileDir: string): Promise<{ result: SizeResult; profile: PackageTime[] | null; profileTotalMs: number | null }> {
  const stacks = stacksOf(layout);
  if (n % stacks !== 0) throw new Error(`N=${n}: must be a multiple of ${stacks}`);
  const repos = await writeRepos(n, layout);
  const what = `N=${n} ${layout}`;

  log(`${what}: berth apply (${repos.berthStacks.length} stacks)`);
  const apply = await berthApply(repos, dockerHostDirect);
  if (apply.code !== 0) throw new Error(`berth apply failed (exit ${apply.code}):\n${tail(apply)}`);
  log(`${what}: berth apply took ${s2(apply.wallS)}; docker-compose up -d for ${repos.composeStacks.length} projects`);
  const up = await composeUp(repos, dockerHostDirect);
  if (up.code !== 0) throw new Error(`docker-compose up -d failed (exit ${up.code}):\n${tail(up)}`);
  log(`${what}: docker-compose up -d took ${s2(up.wallS)}; settling`);
  await new Promise((r) => setTimeout(r, 3000));

  // warm-up (page cache, dockerd caches); not counted
  let w1 = await berthApply(repos, dockerHostDirect);
  if (!berthApplyWasNoop(w1)) {
    // The engine may be shared: a berth apply with prune on (the default) from
    // anywhere else removes every managed object that is not in its repo.
    log(`WARNING: berth apply right after apply was not a no-op (someone else's berth apply with prune on this engine?); once more:\n${tail(w1)}`);
    w1 = await berthApply(repos, dockerHostDirect);
  }
  if (!berthApplyWasNoop(w1)) throw new Error(`berth apply after apply is not a no-op (exit ${w1.code}):\n${tail(w1)}`);
  const w2 = await composeUp(repos, dockerHostDirect);
  if (!composeWasNoop(w2, n)) log(`WARNING: docker-compose up -d after up -d was not a no-op:\n${tail(w2)}`);

  const b: Measured[] = [];
  const c: Measured[] = [];
  const bNoop: boolean[] = [];
  const cNoop: boolean[] = [];
  for (let r = 0; r < RUNS; r++) {
    const x = await berthApply(repos, dockerHostDirect);
    b.push(x);
    bNoop.push(berthApplyWasNoop(x));
    if (!bNoop[bNoop.length - 1]) log(`WARNING: berth apply run ${r + 1} was not a no-op (exit ${x.code}):\n${tail(x)}`);
    const y = await composeUp(repos, dockerHostDirect);
    c.push(y);
    cNoop.push(composeWasNoop(y, n));
    if (!cNoop[cNoop.length - 1]) log(`WARNING: docker-compose run ${r + 1} was not a no-op:\n${tail(y)}`);
    log(`${what} run ${r + 1}/${RUNS}: berth apply ${s3(x.wallS)}, docker-compose up -d ${s3(y.wallS)}`);
  }

  // one more run of each through the counting proxy
  let berthCalls: ApiCall[] = [];
  let composeCalls: ApiCall[] = [];
  if (proxy) {
    proxy.take();
    const x = await berthApply(repos, proxy.dockerHost);
    berthCalls = proxy.take();
    if (!berthApplyWasNoop(x)) log(`WARNING: counted berth apply was not a no-op (exit ${x.code}):\n${tail(x)}`);
    const y = await composeUp(repos, proxy.dockerHost);
    composeCalls = proxy.take();
    if (!composeWasNoop(y, n)) log(`WARNING: counted docker-compose run was not a no-op:\n${tail(y)}`);
  }

  let profile: PackageTime[] | null = null;
  let profileTotalMs: number | null = null;
  if (n === PROFILE_N && layout === 'single') {
    const dir = join(profileDir, `n${n}`);
    mkdirSync(dir, { recursive: true });
    const x = await berthPlan(repos, dockerHostDirect, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100']);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (x.code === 0 && file) {
      const s = summariseFile(join(dir, file));
      profile = s.packages;
      profileTotalMs = s.totalMs;
      // kept for a closer look (chrome://inspect, speedscope); not committed
      mkdirSync(RESULTS, { recursive: true });
      copyFileSync(join(dir, file), join(RESULTS, `plan-n${n}.cpuprofile`));
    } else log(`WARNING: no CPU profile (exit ${x.code})`);
  }

  const berth = figures(b, berthCalls, bNoop);
  const compose = figures(c, composeCalls, cNoop);
  log(`${what}: tearing down`);
  await removeDockerObjects();
  return {
    result: { n, layout, stacks, inProcess: inProcessPass(n), setup: { berthApplyS: apply.wallS, composeUpS: up.wallS }, berth, compose, speedup: compose.wallMedianS / berth.wallMedianS },
    profile,
    profileTotalMs,
  };
}

const inProcessTimes = new Map<number, SizeResult['inProcess']>();
/** Measured once per N (before the layouts, see main): the synthetic host of bench/pass.ts has its own stacks. */
const inProcessPass = (n: number) => inProcessTimes.get(n) ?? null;

interface Planner {
  services: number;
  runs: number;
  firstS: number;
  medianS: number;
  minS: number;
  ops: number;
  line: string;
}

async function benchPlanner(): Promise<Planner | null> {
  const m = await measure(process.execPath, [PLANNER, '1000', '7'], process.env);
  const line = m.stdout.trim().split('\n').pop() ?? '';
  const x = /buildPlan: (\d+) services, \d+ containers, (\d+) ops — first ([\d.]+) s, median ([\d.]+) s, min ([\d.]+) s over (\d+) runs/.exec(line);
  if (!x) {
    log(`WARNING: planner bench printed no result (exit ${m.code}):\n${tail(m)}`);
    return null;
  }
  return { services: Number(x[1]), ops: Number(x[2]), firstS: Number(x[3]), medianS: Number(x[4]), minS: Number(x[5]), runs: Number(x[6]), line };
}

interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean | null;
}

interface StartupFigures {
  wallMedianS: number;
  cpuMedianS: number | null;
}

interface Startup {
  node: StartupFigures;
  version: StartupFigures;
  validate50: StartupFigures;
}

/**
 * Start-up (issue 15): \`node -e 0\`, \`berth --version\` and \`berth validate\` on
 * one stack of 50 services (no Docker), runs of the three interleaved so a
 * change in the machine's load hits all three alike.
 */
async function benchStartup(): Promise<Startup> {
  const repo = join(scratch, 'validate-50');
  mkdirSync(join(repo, 'stacks', `${PREFIX}v1`), { recursive: true });
  writeFileSync(join(repo, 'stacks', `${PREFIX}v1`, 'compose.yaml'), composeFile(50, 1, '10.255.0.0/24'));
  const commands: Record<keyof Startup, string[]> = {
    node: ['-e', '0'],
    version: [BERTH, '--version'],
    validate50: [BERTH, 'validate', '--repo', repo],
  };
  const runs: Record<keyof Startup, Measured[]> = { node: [], version: [], validate50: [] };
  for (let r = -1; r < RUNS; r++) {
    for (const k of Object.keys(commands) as (keyof Startup)[]) {
      const m = await measure(process.execPath, commands[k], process.env);
      if (m.code !== 0) throw new Error(`start-up bench: ${commands[k].join(' ')} exited ${m.code}: ${m.stderr}`);
      if (r >= 0) runs[k].push(m); // r = -1: the warm-up round
    }
  }
  const figures = (ms: Measured[]): StartupFigures => ({ wallMedianS: median(ms.map((m) => m.wallS)), cpuMedianS: medianOrNull(ms.map((m) => m.cpuS)) });
  return { node: figures(runs.node), version: figures(runs.version), validate50: figures(runs.validate50) };
}

const ms = (s: number | null) => (s === null ? '–' : `${(s * 1000).toFixed(0)} ms`);

function targets(sizes: SizeResult[], planner: Planner | null, startup: Startup): Target[] {
  const t: Target[] = [];
  const v = startup.validate50;
  t.push({ what: '`berth validate`, one stack of 50 services (median wall)', target: '≤ 100 ms', measured: `${ms(v.wallMedianS)} (CPU ${ms(v.cpuMedianS)})`, met: v.wallMedianS <= 0.1 });
  const ratio = startup.version.wallMedianS / startup.node.wallMedianS;
  t.push({
    what: '`berth --version` against `node -e 0` (median wall)',
    target: '≈ node -e 0 (≤ 1.1×)',
    measured: `${ms(startup.version.wallMedianS)} vs ${ms(startup.node.wallMedianS)} (${ratio.toFixed(2)}×)`,
    met: ratio <= 1.1,
  });
  const at50 = sizes.find((s) => s.n === 50);
  t.push({
    what: 'no-op `berth apply` vs `docker-compose up -d`, one stack of 50 services (median wall)',
    target: '≥ 10× faster',
    measured: at50 ? `${at50.speedup.toFixed(1)}×` : 'not measured',
    met: at50 ? at50.speedup >= 10 : null,
  });
  for (const s of sizes) {
    t.push({
      what: `no-op \`berth apply\` list calls, one stack of ${s.n}`,
      target: '≤ 4',
      measured: proxy ? `${s.berth.listCalls} (of ${s.berth.apiCalls} calls)` : 'not counted',
      met: proxy ? s.berth.listCalls <= 4 : null,
    });
  }
  t.push({
    what: `pure planner, ${planner?.services ?? 1000} services (first call, cold)`,
    target: '≤ 0.5 s',
    measured: planner ? `${planner.firstS.toFixed(3)} s (median ${planner.medianS.toFixed(3)} s)` : 'not measured',
    met: planner ? planner.firstS <= 0.5 : null,
  });
  for (const [n, goalMs] of [[50, 30], [1000, 300]] as const) {
    const p = inProcessTimes.get(n);
    t.push({
      what: `a no-op pass in process (\`berth run\`'s reconcile, list calls from memory), ${n} services (median wall)`,
      target: `≤ ${goalMs} ms`,
      measured: p ? `${p.medianMs.toFixed(1)} ms (CPU ${p.cpuMedianMs.toFixed(1)} ms)` : 'not measured',
      met: p ? p.medianMs <= goalMs : null,
    });
  }
  return t;
}

/** Title and machine line: stdout only, bench/report.ts writes its own header for all sections. */
function markdownHeader(date: string, machine: Record<string, string>): string {
  return [
    `# berth no-op benchmark — ${date}`,
    '',
    `Machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory} RAM, Linux ${machine.kernel}; node ${machine.node}; Docker Engine ${machine.docker}; docker-compose ${machine.compose}; berth ${machine.berth}; load average ${machine.loadBefore} before, ${machine.loadAfter} after (the engine and CPUs may be shared: a busy machine shows up as a wide median–min gap)`,
    '',
  ].join('\n');
}

/** The goals table: stdout only, bench/report.ts puts every bench's targets in one summary. */
function markdownTargets(tg: Target[]): string {
  const L = ['| target | goal | measured | |', '|---|---|---|---|'];
  for (const t of tg) L.push(`| ${t.what} | ${t.target} | ${t.measured} | ${t.met === null ? '—' : t.met ? 'met' : '**not met**'} |`);
  return L.join('\n') + '\n';
}

/** The section proper, as it appears in the consolidated report. */
function markdown(
  machine: Record<string, string>,
  sizes: SizeResult[],
  multi: SizeResult[],
  planner: Planner | null,
  profile: { n: number; totalMs: number; top: PackageTime[] } | null,
  startup: Startup,
): string {
  const L: string[] = [];
  L.push('## No-op pass: berth apply vs docker-compose up -d; pure planner', '');
  L.push(`Load average ${machine.loadBefore} before, ${machine.loadAfter} after.`, '');
  L.push(
    `No-op pass, ${RUNS} runs each after one warm-up (runs of the two tools interleaved). berth: \`berth apply --repo DIR\` (one process; exit 0 and "No changes"). ` +
      `docker-compose: \`docker-compose -p <stack> -f … up -d\`, one process per stack. ` +
      `CPU = user+sys, peak RSS = largest single process (${TIME_BIN ? 'GNU time %U %S %M: wait4 rusage of the child and its descendants' : '/proc/self/stat cutime+cstime; RSS not available without GNU time'}). ` +
      `API calls: one extra run through a counting proxy (list = GET /containers/json, /networks, /volumes, /images/json). ` +
      `In process: bench/pass.ts, \`reconcile\` in apply mode with the desired state cached and the engine's list calls answered from memory (a pass of \`berth run\` without process start-up or the engine), CPU median of 15 passes, wall median beside it.`,
    '',
  );
  const table = (title: string, rows: SizeResult[], compose: string) => {
    if (!rows.length) return;
    L.push(`### ${title}`, '');
    L.push(`| N | berth apply wall median (min) | ${compose} wall median (min) | speed-up | in process: pass CPU · wall | CPU u+s berth / compose | peak RSS berth / compose | API calls berth (list) / compose |`);
    L.push('|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of rows) {
      const noop = (f: ToolFigures) => (f.allNoop ? '' : ' ⚠ not a no-op');
      const inProc = s.inProcess ? `${s.inProcess.cpuMedianMs.toFixed(1)} ms · ${s.inProcess.medianMs.toFixed(1)} ms` : 'n/a';
      L.push(
        `| ${s.n} | ${s3(s.berth.wallMedianS)} (${s3(s.berth.wallMinS)})${noop(s.berth)} | ${s3(s.compose.wallMedianS)} (${s3(s.compose.wallMinS)})${noop(s.compose)} | ${s.speedup.toFixed(1)}× | ${inProc} | ` +
          `${s2(s.berth.cpuMedianS)} / ${s2(s.compose.cpuMedianS)} | ${mb(s.berth.maxRssMedianKb)} / ${mb(s.compose.maxRssMedianKb)} | ` +
          `${proxy ? `${s.berth.apiCalls} (${s.berth.listCalls}) / ${s.compose.apiCalls}` : 'not counted'} |`,
      );
    }
    L.push('');
  };
  table('One stack of N services: one `berth apply` vs one `docker-compose up -d`', sizes, '`docker-compose up -d`');
  table(`${STACKS} stacks of N/${STACKS} services: one \`berth apply\` vs ${STACKS} \`docker-compose up -d\` (one \`sh\` loop)`, multi, `${STACKS} × \`docker-compose up -d\``);
  L.push(
    `Start-up, ${RUNS} runs each, interleaved (median wall / CPU u+s): \`node -e 0\` ${s3(startup.node.wallMedianS)} / ${startup.node.cpuMedianS === null ? '–' : s3(startup.node.cpuMedianS)}, ` +
      `\`berth --version\` ${s3(startup.version.wallMedianS)} / ${startup.version.cpuMedianS === null ? '–' : s3(startup.version.cpuMedianS)}, ` +
      `\`berth validate\` on one stack of 50 services ${s3(startup.validate50.wallMedianS)} / ${startup.validate50.cpuMedianS === null ? '–' : s3(startup.validate50.cpuMedianS)}.`,
    '',
  );
  if (planner) L.push(`Pure planner: ${planner.line}`, '');
  if (proxy && sizes.length) {
    const s = sizes.find((x) => x.n === PROFILE_N) ?? sizes[0]!;
    L.push(`Endpoints of one no-op pass, one stack of ${s.n}:`, '');
    L.push(`- berth apply (${s.berth.apiCalls}): ${s.berth.endpoints.map(([e, k]) => `\`${e}\` ×${k}`).join(', ')}`);
    L.push(`- docker-compose up -d (${s.compose.apiCalls}): ${s.compose.endpoints.map(([e, k]) => `\`${e}\` ×${k}`).join(', ')}`);
    L.push('');
  }
  if (profile) {
    L.push(`Where a no-op \`berth plan\` spends its CPU (N=${profile.n}, \`node --cpu-prof\`, ${profile.totalMs.toFixed(0)} ms sampled, self time by package):`, '');
    L.push('| # | package | self time | share |', '|---:|---|---:|---:|');
    profile.top.forEach((p, i) => L.push(`| ${i + 1} | ${p.package} | ${p.selfMs.toFixed(1)} ms | ${p.pct.toFixed(1)} % |`));
    L.push('');
  }
  L.push(
    'Setup (not part of the comparison: first converge from nothing, healthchecks disabled): ' +
      [...sizes, ...multi].map((s) => `N=${s.n} ${s.layout}: berth apply ${s2(s.setup.berthApplyS)}, docker-compose up -d ${s2(s.setup.composeUpS)}`).join('; '),
    '',
  );
  return L.join('\n');
}

async function main(): Promise<void> {
  for (const f of [BERTH, PLANNER]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
  scratch = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const upstream = upstreamFromEnv(process.env);
  if (upstream) {
    proxy = new CountingProxy(join(tmpdir(), `berth-bench-${process.pid}.sock`), upstream);
    await proxy.start();
  } else log('WARNING: DOCKER_HOST is neither unix nor plain tcp: API calls are not counted');

  const machine: Record<string, string> = {
    nproc: String(availableParallelism()),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: release(),
    node: process.version,
    docker: await tryExec('docker', ['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})']),
    compose: await tryExec('docker-compose', ['version', '--short']),
    berth: await tryExec('git', ['-C', ROOT, 'describe', '--always', '--dirty']),
  };
  console.log(`machine: ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, Docker Engine ${machine.docker}, docker-compose ${machine.compose}, berth ${machine.berth}`);
  if (!TIME_BIN) log('WARNING: /usr/bin/time (Debian package "time") is missing: CPU from /proc/self/stat, no peak RSS');

  const missing: string[] = [];
  for (const img of ['berth-test/web:v1', 'berth-test/worker:1']) {
    if (!(await exec('docker', ['image', 'inspect', img]).then(() => true, () => false))) missing.push(img);
  }
  if (missing.length) throw new Error(`missing images ${missing.join(', ')}: run bash scripts/test-images.sh`);

  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  machine.loadBefore = load();
  const started = Date.now();
  const sizes: SizeResult[] = [];
  const multi: SizeResult[] = [];
  let profile: { n: number; totalMs: number; top: PackageTime[] } | null = null;
  // What any node CLI pays before its first line of code: the floor under berth's wall time.
  // First, on an engine with nothing of the bench on it yet: after N=200 the engine is still
  // tearing down 400 containers and the load is at its height.
  log('start-up: node -e 0, berth --version, berth validate');
  const startup = await benchStartup();
  const nodeStartupS = startup.node.wallMedianS;
  // Issue 15 item 2: the in-process pass over 1,000 services (no engine: list calls from memory).
  log('N=1000: the pass in process (bench/pass.ts)');
  const pass1000 = await passTimes(1000);
  inProcessTimes.set(1000, { medianMs: pass1000.medianMs, cpuMedianMs: pass1000.cpuMedianMs, minMs: pass1000.minMs });
  for (const n of SIZES) {
    log(`N=${n}: the pass in process (bench/pass.ts)`);
    const t = await passTimes(n);
    inProcessTimes.set(n, { medianMs: t.medianMs, cpuMedianMs: t.cpuMedianMs, minMs: t.minMs });
    for (const layout of LAYOUTS) {
      const r = await benchSize(n, layout, join(scratch, 'profiles'));
      (layout === 'single' ? sizes : multi).push(r.result);
      if (r.profile && r.profileTotalMs !== null) profile = { n, totalMs: r.profileTotalMs, top: r.profile.slice(0, 10) };
    }
  }
  log('pure planner, 1,000 services');
  const planner = await benchPlanner();
  const tg = targets(sizes, planner, startup);

  machine.loadAfter = load();
  const date = new Date().toISOString();
  const md = markdown(machine, sizes, multi, planner, profile, startup);
  console.log(`\n${markdownHeader(date, machine)}\n${md}\n${markdownTargets(tg)}`);
  const json = {
    section: 'noop',
    date,
    machine,
    method: {
      runs: RUNS,
      warmup: 1,
      layouts: { single: 'one stack of N services', multi: `${STACKS} stacks of N/${STACKS}` },
      berth: 'node dist/bundle/main.js apply --repo DIR (exit 0, "No changes")',
      compose: `single: docker-compose -p <stack> -f <file> up -d; multi: sh -c '${COMPOSE_LOOP}' (sequential, one loop); COMPOSE_PARALLEL_LIMIT=max(64, 2N+4) (compose 1.29 deadlocks with more services than slots)`,
      inProcess: 'bench/pass.ts passTimes(N): reconcile in apply mode, desired state cached, list calls from memory; medians of 15',
      cpuRss: TIME_BIN ? "GNU time -f '%e %U %S %M' (wait4 rusage incl. waited-for descendants)" : '/proc/self/stat cutime+cstime delta; no RSS',
      wall: 'process.hrtime around spawn of the measured command',
      apiCalls: proxy ? 'one extra run through a counting unix-socket proxy (request lines client→engine)' : 'not counted',
      healthchecks: 'disabled in generated services',
    },
    sizes,
    multiStack: multi,
    planner,
    targets: tg,
    profile,
    nodeStartupS,
    startup,
    durationS: (Date.now() - started) / 1000,
  };
  if (process.env.BENCH_PART) {
    writeFileSync(process.env.BENCH_PART, JSON.stringify({ ...json, markdown: md }, null, 2) + '\n');
    log(`wrote ${process.env.BENCH_PART} (${json.durationS.toFixed(0)} s)`);
  }
}

await runBench(main, cleanup, log);
