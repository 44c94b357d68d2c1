// Several hosts (issue 18 Measure): a no-op pass over 3 hosts × 50 services.
// Hosts are observed, planned and applied concurrently, so the wall of the
// 3-host pass should be about that of one host, not three times it.
//
//   npm run build && node dist/bench/hosts.js [runs]   (also part of `npm run bench`)
//
// The hosts are three private engines of the test bed (scripts/test-hosts.sh,
// test/support/private-dockerd.ts), each in namespaces of its own and reached
// over plain TCP, as berth reaches remote hosts. One repository, berth.yaml
// `hosts:` host-1..3, each host 5 stacks × 10 services (berth-test/web:v1 and
// berth-test/worker:1, one network per stack, healthchecks disabled as in
// bench/run.ts). After a first converging `berth apply`, timed (median of
// RUNS after one warm-up, interleaved):
//  - `berth apply` over all three hosts (no-op: exit 0, nothing changed);
//  - `berth apply --host host-N` for each host: the 1-host no-op apply of
//    50 services (same repository, same process start and load);
//  - in process, `observe()` of each host alone, and of the three at once:
//    the per-host observe times and what running them side by side costs.
// Everything (engines, namespaces, repo, state dir) is removed at the end,
// on failure and on SIGINT/SIGTERM.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerodeDocker } from '../src/adapters/dockerode-docker.js';
import { observe } from '../src/observe/observe.js';
import { PrivateDockerd, TestBed } from '../test/support/private-dockerd.js';
import { timedBerth } from './berth-process.js';
import { median } from './rollout-figures.js';
import type { HostsPart } from './report-model.js';
import { runBench } from './bench-main.js';

const RUNS = Math.max(1, Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 5));
const HOSTS = 3;
const STACKS = 5;
const PER_STACK = 10;
const IMAGES = ['berth-test/web:v1', 'berth-test/worker:1'];

const log = (m: string) => process.stderr.write(`[bench:hosts ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function stackCompose(stack: string): string {
  const lines = ['services:'];
  for (let i = 1; i <= PER_STACK; i++) {
    const web = i % 2 === 1;
    lines.push(
      `  ${web ? 'web' : 'worker'}${String(i).padStart(2, '0')}:`,
      `    image: ${web ? 'berth-test/web:v1' : 'berth-test/worker:1'}`,
      '    restart: unless-stopped',
      '    environment:',
      `      STACK: "${stack}"`,
      `      SERVICE_INDEX: "${i}"`,
      '    networks: [net]',
      '    healthcheck:',
      '      disable: true',
    );
  }
  lines.push('networks:', '  net: {}');
  return `${lines.join('\n')}\n`;
}

function writeRepo(bed: TestBed): string {
  const repo = mkdtempSync(join(tmpdir(), 'berth-bench-hosts-'));
  const hosts: string[] = ['hosts:'];
  bed.engines.forEach((e, h) => {
    hosts.push(`  host-${h + 1}:`, `    docker: ${e.tcpHost}`, `    stacks: ["h${h + 1}s*"]`);
    for (let s = 1; s <= STACKS; s++) {
      const stack = `h${h + 1}s${s}`;
      mkdirSync(join(repo, 'stacks', stack), { recursive: true });
      writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), stackCompose(stack));
    }
  });
  writeFileSync(join(repo, 'berth.yaml'), `${hosts.join('\n')}\n`);
  return repo;
}

let bed: TestBed | null = null;
let scratch: string[] = [];
async function cleanup(): Promise<void> {
  const b = bed;
  bed = null;
  await b?.destroy();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
  scratch = [];
}

async function main(): Promise<void> {
  const why = PrivateDockerd.unavailable();
  if (why) throw new Error(`private engines cannot run here: ${why}`);
  log(`starting ${HOSTS} private engines`);
  const t0 = performance.now();
  bed = await TestBed.start(HOSTS, { images: IMAGES });
  const bedStartS = (performance.now() - t0) / 1000;
  const repo = writeRepo(bed);
  const state = mkdtempSync(join(tmpdir(), 'berth-bench-hosts-state-'));
  scratch = [repo, state];
  const env = { BERTH_STATE_DIR: state };
  log(`engines up in ${bedStartS.toFixed(1)} s; converging ${HOSTS} × ${STACKS * PER_STACK} services`);
  const first = await timedBerth(['apply', '--repo', repo], env);
  if (first.code !== 0) throw new Error(`first apply: exit ${first.code}\n${first.out.slice(-3000)}`);
  const convergeS = first.ms / 1000;
  const noop = async (args: string[]) => {
    const r = await timedBerth(['apply', '--repo', repo, ...args], env);
    if (r.code !== 0 || r.out.includes('Apply complete')) throw new Error(`apply ${args.join(' ')} was not a no-op (exit ${r.code}):\n${r.out.slice(-3000)}`);
    return r.ms;
  };
  const ports = bed.engines.map((e) => DockerodeDocker.fromEnv({ DOCKER_HOST: e.tcpHost! }));
  const observeMs = async (i: number) => {
    const t = performance.now();
    await observe(ports[i]!);
    return performance.now() - t;
  };

  const allWall: number[] = [];
  const oneWall: number[][] = bed.engines.map(() => []);
  const alone: number[][] = bed.engines.map(() => []);
  const together: number[] = [];
  const togetherEach: number[][] = bed.engines.map(() => []);
  for (let run = 0; run <= RUNS; run++) {
    const keep = run > 0; // run 0 warms up
    const a = await noop([]);
    if (keep) allWall.push(a);
    for (let h = 0; h < HOSTS; h++) {
      const o = await noop(['--host', `host-${h + 1}`]);
      if (keep) oneWall[h]!.push(o);
    }
    for (let h = 0; h < HOSTS; h++) {
      const o = await observeMs(h);
      if (keep) alone[h]!.push(o);
    }
    const t = performance.now();
    const each = await Promise.all(bed.engines.map((_, h) => observeMs(h)));
    if (keep) {
      together.push(performance.now() - t);
      each.forEach((ms, h) => togetherEach[h]!.push(ms));
    }
    log(`run ${run}${keep ? '' : ' (warm-up)'}: 3 hosts ${(a / 1000).toFixed(2)} s`);
  }

  const m = {
    allHostsMs: median(allWall),
    oneHostMs: oneWall.map(median),
    observeAloneMs: alone.map(median),
    observeTogetherMs: median(together),
    observeTogetherEachMs: togetherEach.map(median),
  };
  const slowestOne = Math.max(...m.oneHostMs);
  const ratio = m.allHostsMs / slowestOne;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const f = (ms: number) => `${ms.toFixed(0)} ms`;
  const markdown = [
    '## Several hosts: no-op pass over 3 hosts × 50 services (issue 18)',
    '',
    `Three private engines of the test bed (scripts/test-hosts.sh: own network, mount and UTS namespaces, reached over plain TCP), one repository with berth.yaml \`hosts:\`, ` +
      `${STACKS} stacks × ${PER_STACK} services per host (${HOSTS * STACKS * PER_STACK} containers). Median of ${RUNS} runs after one warm-up, interleaved; ` +
      `engines up in ${bedStartS.toFixed(1)} s, first converge ${convergeS.toFixed(1)} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}. ` +
      'Hosts are observed, planned and applied concurrently (at most 4 at a time), so the 3-host pass should cost about one host, not three.',
    '',
    '| no-op `berth apply` | wall (median) |',
    '|---|---:|',
    `| all 3 hosts (150 services) | ${s(m.allHostsMs)} |`,
    ...m.oneHostMs.map((ms, h) => `| \`--host host-${h + 1}\` only (50 services) | ${s(ms)} |`),
    `| 3 hosts ÷ slowest single host | ${ratio.toFixed(2)}× |`,
    '',
    '| `observe()` of a host (in process) | alone | the three at once |',
    '|---|---:|---:|',
    ...m.observeAloneMs.map((ms, h) => `| host-${h + 1} | ${f(ms)} | ${f(m.observeTogetherEachMs[h]!)} |`),
    `| wall | ${f(m.observeAloneMs.reduce((x, y) => x + y, 0))} one after the other | ${f(m.observeTogetherMs)} |`,
    '',
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const part: HostsPart = {
    section: 'hosts',
    date: new Date().toISOString(),
    markdown,
    targets: [{ what: 'no-op pass over 3 hosts × 50 services', target: 'wall ≈ one host (observe in parallel): ≤ 1.5× the slowest single host', measured: `${s(m.allHostsMs)} vs ${s(slowestOne)} for one host (${ratio.toFixed(2)}×)`, met: ratio <= 1.5 }],
    settings: { hosts: HOSTS, servicesPerHost: STACKS * PER_STACK, runs: RUNS },
    medians: m,
    setup: { bedStartS, convergeS },
  };
  if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2));
}

await runBench(main, cleanup, log);
