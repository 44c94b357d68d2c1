#!/usr/bin/env node
// `npm test`: the suite in four vitest processes at once — the unit project in
// one, the e2e files spread over three by their recorded durations.
//
// Why processes: vitest runs all projects of one process through a single
// worker pool (one worker on a two-core machine), so lanes inside one process
// would still run one file at a time; the e2e files mostly wait on Docker.
// Why four: eight side by side pushed the load to 50 and timing-bound checks
// (event delivery, bakes) missed their marks.
// Why by duration: a fixed list of files per lane went stale with every new
// suite (the lane new files fell into became CI's critical path). The e2e files
// are dealt out longest first to the lane with the least work so far (LPT),
// using test/lane-times.json (seconds per file, measured in CI-like runs; a file
// not in it counts as DEFAULT_S). `BERTH_LANES_RECORD=1 npm test` writes the
// measured durations back to that file; `BERTH_LANES_DRY=1` only prints the lanes.
//
// Each lane's output is prefixed with its name; the exit code is non-zero when
// any lane failed. With arguments (`npm test -- test/compose`), one vitest
// process runs what they select instead.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '..');
const TIMES = join(ROOT, 'test', 'lane-times.json');
const E2E_LANES = 3;
const DEFAULT_S = 60;

const args = process.argv.slice(2);
if (args.length > 0) {
  const child = spawn('npx', ['vitest', 'run', '--maxWorkers=1', '--minWorkers=1', ...args], { stdio: 'inherit', cwd: ROOT });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await runLanes();
}

function e2eFiles() {
  return readdirSync(join(ROOT, 'test'), { recursive: true })
    .map((f) => `test/${String(f).split('\\').join('/')}`)
    .filter((f) => f.endsWith('.e2e.test.ts'))
    .sort();
}

/** Longest first, each to the lane with the least estimated work. */
function deal(files, times, lanes) {
  const est = (f) => (typeof times[f] === 'number' ? times[f] : DEFAULT_S);
  const out = Array.from({ length: lanes }, () => ({ files: [], seconds: 0 }));
  for (const f of [...files].sort((a, b) => est(b) - est(a) || a.localeCompare(b))) {
    const lane = out.reduce((min, l) => (l.seconds < min.seconds ? l : min));
    lane.files.push(f);
    lane.seconds += est(f);
  }
  return out;
}

async function runLanes() {
  const times = existsSync(TIMES) ? JSON.parse(readFileSync(TIMES, 'utf8')) : {};
  const dealt = deal(e2eFiles(), times, E2E_LANES);
  const lanes = [
    { name: 'unit', projects: ['unit'], files: [] },
    ...dealt.map((d, i) => ({ name: `e2e-${i + 1}`, projects: ['e2e'], files: d.files, estimate: d.seconds })),
  ];
  for (const l of lanes.slice(1)) console.log(`[${l.name}] ~${Math.round(l.estimate)} s: ${l.files.join(' ')}`);
  if (process.env.BERTH_LANES_DRY === '1') return;
  const out = mkdtempSync(join(tmpdir(), 'berth-lanes-'));
  const width = Math.max(...lanes.map((l) => l.name.length));
  const started = Date.now();
  const results = await Promise.all(
    lanes.map(
      (lane) =>
        new Promise((resolve) => {
          const json = join(out, `${lane.name}.json`);
          const child = spawn(
            'npx',
            [
              'vitest', 'run',
              ...lane.projects.flatMap((p) => ['--project', p]),
              '--maxWorkers=1', '--minWorkers=1', '--passWithNoTests',
              '--reporter=default', '--reporter=json', `--outputFile.json=${json}`,
              ...lane.files,
            ],
            { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } },
          );
          const tag = `[${lane.name.padEnd(width)}] `;
          for (const stream of [child.stdout, child.stderr]) {
            createInterface({ input: stream }).on('line', (line) => process.stdout.write(tag + line + '\n'));
          }
          child.on('exit', (code, signal) => resolve({ lane, json, code: code ?? 1, signal, seconds: (Date.now() - started) / 1000 }));
        }),
    ),
  );
  const measured = {};
  for (const r of results) {
    if (!existsSync(r.json)) continue;
    for (const t of JSON.parse(readFileSync(r.json, 'utf8')).testResults ?? []) {
      measured[relative(ROOT, t.name)] = Math.round((t.endTime - t.startTime) / 100) / 10;
    }
  }
  console.log('\nlanes:');
  for (const r of results) {
    const est = r.lane.estimate === undefined ? '' : ` (estimated ${Math.round(r.lane.estimate)} s)`;
    console.log(`  ${r.lane.name.padEnd(width)}  ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})`}  ${r.seconds.toFixed(0)} s${est}`);
  }
  const slowest = Object.entries(measured).filter(([f]) => f.endsWith('.e2e.test.ts')).sort((a, b) => b[1] - a[1]);
  console.log(`e2e files by duration: ${slowest.map(([f, s]) => `${f.replace(/^test\//, '')} ${s}s`).join(', ')}`);
  if (process.env.BERTH_LANES_RECORD === '1') {
    const next = Object.fromEntries(Object.entries({ ...times, ...Object.fromEntries(slowest) }).filter(([f]) => existsSync(join(ROOT, f))).sort());
    writeFileSync(TIMES, JSON.stringify(next, null, 2) + '\n');
    console.log(`wrote ${relative(ROOT, TIMES)}`);
  }
  process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
}
