// Planner micro-benchmark (not a test): a 1,000-service desired state, a live
// state that matches it except for a few changes, and the time buildPlan takes.
// Target: ≤ 0.5 s.
//
//   npx tsc -p tsconfig.json && node dist/bench/planner.js [services] [runs]
//   npx vite-node bench/planner.ts            (no build; vite-node ships with vitest)
import { performance } from 'node:perf_hooks';
import { buildPlan } from '../src/plan/build-plan.js';
import { generate } from './synthetic-host.js';

const SERVICES = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.argv[3] ?? 7);

const { desired, live, applied } = generate(SERVICES);
const times: number[] = [];
let ops = 0;
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now();
  const plan = buildPlan(desired, live, applied, 'bench1');
  times.push(performance.now() - t0);
  ops = plan.ops.length;
  if (plan.errors.length > 0) throw new Error(`unexpected plan errors: ${JSON.stringify(plan.errors.slice(0, 3))}`);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
console.log(
  `buildPlan: ${SERVICES} services, ${live.containers.length} containers, ${ops} ops — first ${fmt(times[0]!)}, median ${fmt(median)}, min ${fmt(sorted[0]!)} over ${RUNS} runs (target ≤ 0.500 s)`,
);
process.exitCode = times[0]! <= 500 ? 0 : 1;
