// The real-world Compose corpus (issue 12): what `berth validate` costs, and
// what it says, on every case of ../shared/realworld-compose (read in place).
// Each case is loaded with the same call and options `berth validate` makes
// (src/cli/validate.ts) and, when accepted, linted as `berth lint` and `plan`
// lint it, in one process that keeps its compiled schemas (as `berth run`
// does): one warm-up pass over the corpus, then RUNS timed runs per case.
// Every COLD_EVERY-th case is also validated by a fresh CLI process (the
// bundle), which must exit as the in-process load decided.
//
//   npm run build && node dist/bench/corpus.js [runs] [coldEvery]   (also part of `npm run bench`)
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hostAgeIdentities } from '../src/adapters/secrets-host.js';
import { loadDesiredStateWithSecrets } from '../src/compose/load-secrets.js';
import { createValidators, type Validators } from '../src/compose/schema.js';
import { lint } from '../src/lint/lint.js';
import { renderDiagnostic } from '../src/model/render-diagnostics.js';
import { SopsKeyring } from '../src/secrets/keyring.js';
import { CASE_ENV, CORPUS, caseEnv, corpusCases } from '../test/support/realworld-corpus.js';
import { REPO_ROOT } from '../test/support/shared-dir.js';
import { sampleEvery, slowest, spread } from './corpus-figures.js';
import { corpusSection } from './report-markdown.js';
import type { CorpusPart } from './report-model.js';
import { median } from './rollout-figures.js';

const RUNS = Number(process.argv[2] ?? 5);
const COLD_EVERY = Number(process.argv[3] ?? 10);
/** The allowance: at most 2 of the corpus refused. */
const MAX_REFUSED = 2;
const BUNDLE = join(REPO_ROOT, 'dist', 'bundle', 'main.js');

const log = (m: string) => process.stderr.write(`[bench:corpus ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

interface Run {
  loadMs: number;
  lintMs: number;
  /** The errors as `berth validate` prints them; [] when accepted. */
  errors: string[];
}

/** One `berth validate` of a case (runValidate's load, minus printing), then lint when it is accepted. */
async function validateCase(dir: string, env: Record<string, string>, validators: Validators): Promise<Run> {
  const t0 = performance.now();
  const loaded = await loadDesiredStateWithSecrets(dir, {
    env,
    validators,
    secrets: { keyring: new SopsKeyring(hostAgeIdentities(env).keys), salt: 'validate', materialDir: '/run/berth/validate' },
  });
  const t1 = performance.now();
  if (loaded.state) lint(loaded.state, { positions: loaded.sources });
  const t2 = performance.now();
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(renderDiagnostic);
  return { loadMs: t1 - t0, lintMs: t2 - t1, errors };
}

/** A fresh `berth validate --repo DIR` process: its wall time and exit code. */
function coldValidate(dir: string, env: Record<string, string>): Promise<{ ms: number; code: number }> {
  return new Promise((res, rej) => {
    const t = performance.now();
    execFile(process.execPath, [BUNDLE, 'validate', '--repo', dir], { env: { PATH: process.env.PATH, ...env } }, (e) => {
      const ms = performance.now() - t;
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
      if (code === null) rej(e);
      else res({ ms, code });
    });
  });
}

async function main(): Promise<void> {
  if (CORPUS === null) throw new Error('the real-world corpus is missing: expected ../shared/realworld-compose next to the repository (or next to the main checkout of this worktree)');
  if (COLD_EVERY > 0 && !existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  for (const c of Object.keys(CASE_ENV)) if (!existsSync(join(CORPUS, c))) throw new Error(`CASE_ENV names ${c}, which is not in ${CORPUS}`);
  const cases = corpusCases();
  log(`${cases.length} cases in ${CORPUS}; ${RUNS} warm runs each after one warm-up pass`);
  const validators = createValidators();
  for (const c of cases) await validateCase(join(CORPUS, c), caseEnv(c), validators);

  const perCase = new Map<string, { loadMs: number; lintMs: number; totalMs: number; errors: string[] }>();
  for (const c of cases) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await validateCase(join(CORPUS, c), caseEnv(c), validators));
    const errors = runs[0]!.errors;
    if (runs.some((r) => r.errors.join('\n') !== errors.join('\n'))) throw new Error(`${c}: the runs disagree on the errors`);
    perCase.set(c, { loadMs: median(runs.map((r) => r.loadMs)), lintMs: median(runs.map((r) => r.lintMs)), totalMs: median(runs.map((r) => r.loadMs + r.lintMs)), errors });
  }
  const loadAverage = loadavg().map((x) => x.toFixed(2)).join(' ');

  let cold: CorpusPart['cold'] = null;
  const sampled = sampleEvery(cases, COLD_EVERY);
  if (sampled.length) {
    const times: number[] = [];
    for (const c of sampled) {
      const { ms, code } = await coldValidate(join(CORPUS, c), caseEnv(c));
      const expected = perCase.get(c)!.errors.length ? 1 : 0;
      if (code !== expected) throw new Error(`${c}: berth validate exited ${code}, the in-process load says ${expected}`);
      times.push(ms);
    }
    cold = { cases: sampled, medianMs: median(times), maxMs: Math.max(...times) };
  }

  const values = [...perCase.values()];
  const refused = [...perCase].filter(([, r]) => r.errors.length > 0).map(([name, r]) => ({ name, errors: r.errors.length, reason: r.errors[0]! }));
  const accepted = cases.length - refused.length;
  const figures: Omit<CorpusPart, 'markdown'> = {
    section: 'corpus',
    date: new Date().toISOString(),
    settings: { runs: RUNS, coldEvery: COLD_EVERY },
    loadAverage,
    cases: cases.length,
    accepted,
    refused,
    perCaseMs: spread(values.map((r) => r.totalMs)),
    loadMs: spread(values.map((r) => r.loadMs)),
    lintMs: spread(values.map((r) => r.lintMs)),
    slowest: slowest(new Map([...perCase].map(([c, r]) => [c, r.totalMs])), 5),
    cold,
    targets: [{ what: 'real-world Compose cases refused by `berth validate`', target: `≤ ${MAX_REFUSED}`, measured: `${refused.length} of ${cases.length}`, met: refused.length <= MAX_REFUSED }],
  };
  const markdown = corpusSection(figures);
  process.stdout.write(`${markdown}\n`);
  // Every case's figures too, for latest.json (the report reads only the typed fields).
  const part: CorpusPart & { perCase: Record<string, { loadMs: number; lintMs: number; totalMs: number }> } = {
    ...figures,
    markdown,
    perCase: Object.fromEntries([...perCase].map(([c, r]) => [c, { loadMs: r.loadMs, lintMs: r.lintMs, totalMs: r.totalMs }])),
  };
  if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2));
}

await main();
