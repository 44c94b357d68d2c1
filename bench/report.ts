// `npm run bench`: every benchmark in one run, one report (issue 8 item 2).
//
//   npm run bench          build, then this (≈ 10–20 min on 2 shared cores)
//
// Runs, one after the other, each bench of PARTS (bench/report-model.ts: the
// list, its order and what each measures) as its own process with its output
// shown, e.g. dist/bench/run.js (no-op pass vs docker-compose) … dist/bench/corpus.js
// (validate over the real-world Compose corpus).
// Each writes its figures as JSON to the file named by BENCH_PART; this then
// writes bench/results/latest.md (machine facts and load average at the start
// and end, summary tables, each bench's section), bench/results/latest.json
// (all figures) and a copy of it as bench/results/<ISO time>.json.
// A bench that fails does not stop the others; the report says what is missing
// and this exits 1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReport, reportJson, type Machine, type Report } from './report-markdown.js';
import { PARTS, type Benches, type Part, type PartName } from './report-model.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');

const log = (m: string) => process.stderr.write(`[bench:report ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

function tryExec(cmd: string, args: string[]): Promise<string> {
  return new Promise((res) => execFile(cmd, args, (e, stdout, stderr) => res(e ? `unavailable (${(stderr.trim() || e.message).split('\n')[0]})` : stdout.trim())));
}

async function machine(): Promise<Machine> {
  return {
    cores: String(availableParallelism()),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: release(),
    docker: await tryExec('docker', ['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})']),
    compose: await tryExec('docker-compose', ['version', '--short']),
    node: process.version,
    berth: await tryExec('git', ['-C', ROOT, 'describe', '--always', '--dirty']),
  };
}

let child: ChildProcess | null = null;

function runBench(script: string, partFile: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [join(ROOT, 'dist', 'bench', script)], { env: { ...process.env, BENCH_PART: partFile }, stdio: 'inherit' });
    child = c;
    c.on('error', rej);
    c.on('close', (code, signal) => {
      child = null;
      res({ code, signal });
    });
  });
}

// A signal stops the running bench (which cleans up after itself), then this.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the running bench`);
    const c = child;
    if (!c) process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[sig]);
    c.kill(sig);
    c.once('close', () => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[sig]));
  });
}

async function main(): Promise<void> {
  for (const b of PARTS) if (!existsSync(join(ROOT, 'dist', 'bench', b.script))) throw new Error(`dist/bench/${b.script} is missing: run npm run build first`);
  const started = Date.now();
  const loadStart = load();
  const m = await machine();
  log(`${m.cores} cores, load average ${loadStart}; running ${PARTS.map((b) => b.script).join(', ')}`);
  const parts = mkdtempSync(join(tmpdir(), 'berth-bench-parts-'));
  // Every bench null (failed) until its figures arrive.
  const benches: Benches = Object.fromEntries(PARTS.map((b) => [b.name, null]));
  const failures: Report['failures'] = [];
  try {
    for (const b of PARTS) {
      const file = join(parts, `${b.name}.json`);
      log(`${b.script} (${b.what}): starting (load average ${load()})`);
      const t = Date.now();
      const { code, signal } = await runBench(b.script, file);
      log(`${b.script}: exit ${code ?? signal} after ${((Date.now() - t) / 1000).toFixed(0)} s`);
      if (code !== 0 || !existsSync(file)) {
        failures.push({ bench: b.script, reason: signal ? `killed by ${signal}` : code !== 0 ? `exit ${code}` : 'wrote no figures' });
        continue;
      }
      const part = JSON.parse(readFileSync(file, 'utf8')) as Part;
      if (part.section !== b.name) throw new Error(`${b.script} wrote section ${String(part.section)}, expected ${b.name}`);
      // The section check above is what makes this part the one its name stands for.
      (benches as Record<PartName, Part | null>)[b.name] = part;
    }
  } finally {
    rmSync(parts, { recursive: true, force: true });
  }

  const date = new Date().toISOString();
  const report: Report = { date, machine: m, load: { start: loadStart, end: load() }, durationS: (Date.now() - started) / 1000, benches, failures };
  const md = renderReport(report);
  const json = reportJson(report);
  mkdirSync(RESULTS, { recursive: true });
  const stamp = date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const text = JSON.stringify(json, null, 2) + '\n';
  writeFileSync(join(RESULTS, 'latest.json'), text);
  writeFileSync(join(RESULTS, `${stamp}.json`), text);
  writeFileSync(join(RESULTS, 'latest.md'), md);
  process.stdout.write(`\n${md}\n`);
  log(`wrote bench/results/latest.md, latest.json and ${stamp}.json (${(report.durationS / 60).toFixed(1)} min)`);
  if (failures.length) process.exitCode = 1;
}

try {
  await main();
} catch (e) {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
}
