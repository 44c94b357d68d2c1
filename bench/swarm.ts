// A swarm rolling update (issue 18 Measure): berth's overhead beyond Swarm.
//
//   npm run build && node dist/bench/swarm.js [runs]   (also part of `npm run bench`)
//
// A 3-node swarm on the private test bed (test/support/private-swarm.ts), one
// stack of `web` with 3 replicas (start-first, parallelism 1, monitor 1s,
// berth-test/web with its 1 s healthcheck, endpoint_mode dnsrr: no IPVS here).
// After a first converging `berth apply` of berth-test/web:v2, each run (median
// of RUNS after one warm-up):
//  - Swarm alone: `docker service update --detach --image berth-test/web:v1`,
//    timed from the command to every task Swarm wants running being a running
//    task of v1 (polled in process every 50 ms; no old task left running);
//  - berth: `berth apply` of the unchanged repository (it still says v2), which
//    plans the hand edit back and rolls the same 3 replicas with the same
//    update config — wall time of the process, start to exit.
// The difference is berth's overhead: process start, load, observe and plan,
// the gate's 500 ms polls, and the record written after. Everything (engines,
// namespaces, repo, state dir) is removed at the end, on failure and on SIGINT/SIGTERM.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerodeSwarm } from '../src/adapters/dockerode-swarm.js';
import { dockerConnectionFromEnv } from '../src/adapters/docker-connection.js';
import { PrivateDockerd } from '../test/support/private-dockerd.js';
import { PrivateSwarm } from '../test/support/private-swarm.js';
import { timedBerth } from './berth-process.js';
import { median } from './rollout-figures.js';
import type { SwarmPart } from './report-model.js';
import { runBench } from './bench-main.js';

const RUNS = Math.max(1, Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 3));
const IMAGES = ['berth-test/web:v1', 'berth-test/web:v2'];
const STACK = 'bench';
const SERVICE = `${STACK}_web`;

const log = (m: string) => process.stderr.write(`[bench:swarm ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const compose = `services:
  web:
    image: berth-test/web:v2
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      update_config: {order: start-first, parallelism: 1, monitor: 1s}
`;

let swarm: PrivateSwarm | null = null;
let scratch: string[] = [];
async function cleanup(): Promise<void> {
  const s = swarm;
  swarm = null;
  await s?.destroy();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
  scratch = [];
}

async function main(): Promise<void> {
  const why = PrivateDockerd.unavailable();
  if (why) throw new Error(`private engines cannot run here: ${why}`);
  log('starting a 3-node swarm');
  const t0 = performance.now();
  swarm = await PrivateSwarm.start(3, IMAGES);
  const swarmStartS = (performance.now() - t0) / 1000;
  const repo = mkdtempSync(join(tmpdir(), 'berth-bench-swarm-'));
  const state = mkdtempSync(join(tmpdir(), 'berth-bench-swarm-state-'));
  scratch = [repo, state];
  mkdirSync(join(repo, 'stacks', STACK), { recursive: true });
  writeFileSync(join(repo, 'stacks', STACK, 'compose.yaml'), compose);
  writeFileSync(join(repo, 'berth.yaml'), `hosts:\n  cluster:\n    docker: ${swarm.manager.dockerHost}\n    mode: swarm\n    stacks: ["${STACK}"]\n`);
  const env = { BERTH_STATE_DIR: state };
  const first = await timedBerth(['apply', '--repo', repo], env);
  if (first.code !== 0) throw new Error(`first apply: exit ${first.code}\n${first.out.slice(-3000)}`);
  const convergeS = first.ms / 1000;
  log(`swarm up in ${swarmStartS.toFixed(1)} s, first converge ${convergeS.toFixed(1)} s`);

  const port = new DockerodeSwarm(dockerConnectionFromEnv({ DOCKER_HOST: swarm.manager.dockerHost }));
  const id = (await port.listServices()).find((s) => s.name === SERVICE)!.id;
  /** Every task Swarm wants running runs `image`, as many as the replicas, and no other task still runs. */
  const settledOn = async (image: string) => {
    const tasks = await port.listTasks(id);
    const wanted = tasks.filter((t) => t.desiredState === 'running');
    const others = tasks.filter((t) => t.state === 'running' && !t.image.startsWith(image));
    return wanted.length === 3 && wanted.every((t) => t.state === 'running' && t.image.startsWith(image)) && others.length === 0;
  };
  const swarmUpdate = async (): Promise<number> => {
    const t = performance.now();
    const r = await swarm!.docker(['service', 'update', '--detach', '--no-resolve-image', '--image', 'berth-test/web:v1', SERVICE]);
    if (r.code !== 0) throw new Error(`docker service update: ${r.stderr}`);
    const deadline = Date.now() + 120_000;
    while (!(await settledOn('berth-test/web:v1'))) {
      if (Date.now() > deadline) throw new Error('Swarm did not finish its update within 120 s');
      await new Promise((r2) => setTimeout(r2, 50));
    }
    return performance.now() - t;
  };
  const berthUpdate = async (): Promise<number> => {
    const r = await timedBerth(['apply', '--repo', repo], env);
    if (r.code !== 0 || !r.out.includes('Apply complete') || !(await settledOn('berth-test/web:v2'))) throw new Error(`berth apply did not roll the update (exit ${r.code}):\n${r.out.slice(-3000)}`);
    return r.ms;
  };

  const swarmMs: number[] = [];
  const berthMs: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const keep = run > 0; // run 0 warms up
    const s = await swarmUpdate();
    const b = await berthUpdate();
    if (keep) {
      swarmMs.push(s);
      berthMs.push(b);
    }
    log(`run ${run}${keep ? '' : ' (warm-up)'}: swarm ${(s / 1000).toFixed(2)} s, berth ${(b / 1000).toFixed(2)} s`);
  }
  const m = { swarmMs: median(swarmMs), berthMs: median(berthMs), overheadMs: median(berthMs.map((b, i) => b - swarmMs[i]!)) };
  const s2 = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const markdown = [
    '## Swarm: rolling update of 3 replicas, berth vs Swarm alone (issue 18)',
    '',
    'A 3-node swarm of private engines (test/support/private-swarm.ts), one service of 3 replicas (start-first, parallelism 1, monitor 1 s, 1 s healthcheck). ' +
      `Median of ${RUNS} runs after one warm-up; swarm up in ${swarmStartS.toFixed(1)} s, first converge ${convergeS.toFixed(1)} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}. ` +
      'Swarm alone: `docker service update --image` to all tasks running the new image (polled every 50 ms). berth: the wall of `berth apply` rolling the same update back (process start to exit).',
    '',
    '| rolling update of 3 replicas | wall (median) |',
    '|---|---:|',
    `| Swarm alone (\`docker service update\`) | ${s2(m.swarmMs)} |`,
    `| \`berth apply\` | ${s2(m.berthMs)} |`,
    `| berth's overhead (per run, median) | ${s2(m.overheadMs)} |`,
    '',
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const part: SwarmPart = {
    section: 'swarm',
    date: new Date().toISOString(),
    markdown,
    targets: [{ what: 'swarm rolling update of 3 replicas: berth beyond Swarm', target: 'overhead ≤ 2 s', measured: `${s2(m.berthMs)} vs ${s2(m.swarmMs)} (+${s2(m.overheadMs)})`, met: m.overheadMs <= 2000 }],
    settings: { replicas: 3, runs: RUNS },
    medians: m,
    setup: { swarmStartS, convergeS },
  };
  if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2));
}

await runBench(main, cleanup, log);
