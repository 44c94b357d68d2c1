import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYamlValue, stringify as stringifyYaml } from 'yaml';
import { CountingDocker, type DockerMethod } from '../../src/adapters/counting-docker.js';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { createValidators, type Validators } from '../../src/compose/schema.js';
import type { DockerPort } from '../../src/ports/docker.js';
import { runCli, type CliRun } from '../support/cli.js';
import { requireEngine } from '../support/engine.js';

/**
 * Random mutations of the example repository (desired-state/) through
 * `berth validate`, in-process: whatever the bytes, berth never throws,
 * exits 0 or 1, never prints a stack trace, and when it says invalid it says
 * where (FILE:LINE:COL). A few of the mutants also go through `berth plan`
 * against the real engine, which must not see a single mutating call.
 *
 * Reproduce a failure with the seed it prints: FUZZ_SEED=<seed> (and
 * FUZZ_RUNS=<n> to run longer than the default, sized to stay under a
 * minute on the 2-core test machine).
 */
const EXAMPLE = join(import.meta.dirname, '..', '..', 'desired-state');
const SEED = Number(process.env.FUZZ_SEED ?? 8_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const PLAN_RUNS = Number(process.env.FUZZ_PLAN_RUNS ?? 12);
/** The example's one required variable; without it every mutant would fail the same way. */
const ENV = { POSTGRES_PASSWORD: 'fuzz-password-not-printed' };

/** The files a mutation may hit, relative to the repo. */
const FILES = [
  'berth.yaml',
  'stacks/api/compose.yaml',
  'stacks/api/api.env',
  'stacks/data/compose.yaml',
  'stacks/infra/compose.yaml',
  'stacks/web/compose.yaml',
] as const;

// Mutations work on bytes: a latin1 string holds one byte per character, so
// splicing it never re-encodes what is already there.
type Mutation = ((bytes: string) => string) & { [fc.toStringMethod]?: () => string };

/** A mutation that prints as what it does in a counterexample. */
function described(what: string, f: (bytes: string) => string): Mutation {
  return Object.assign(f, { [fc.toStringMethod]: () => what });
}

const TOKENS = ['\t', ':', ': ', '${', '}', '$$', '- ', '-', '&a ', '*a', '*nope', '<<: ', '<<: *a', '"', "'", '[', ']', '{', '}', '#', '---\n', '\n', ' ', '  ', '|', '>', '? ', '!!binary ', '%YAML 1.2\n', '\\', '\0', '\r\n'];
const SCALARS = ['', '~', 'null', 'true', 'no', '.inf', '-.inf', '.nan', '1e400', '-1', '0', '99999999999999999999', '0x1F', '1_000', '${X}', '${X:?boom}', '${', '$$', '[]', '{}', '[a, b]', '{a: 1}', '"unterminated', 'a: b', '&x', '*x', 'é', '日本', '\u202e', 'edge', 'backend', 'web', 'recreate', 'database', '80:80', '/data', 'sometimes'];

const toBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

const lineOp = (what: string, f: (lines: string[], i: number) => void) =>
  fc.nat().map((n) =>
    described(`${what} #${n}`, (bytes) => {
      const lines = bytes.split('\n');
      f(lines, n % lines.length);
      return lines.join('\n');
    }),
  );

const insertion = fc.oneof(
  fc.constantFrom(...TOKENS),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.string({ maxLength: 12, unit: 'grapheme' }).map(toBytes),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // delete a line
  lineOp('delete line', (lines, i) => void lines.splice(i, 1)),
  // duplicate a line
  lineOp('duplicate line', (lines, i) => void lines.splice(i, 0, lines[i]!)),
  // swap indentation: one level more, one less, or a tab
  fc.tuple(fc.nat(), fc.constantFrom('more', 'less', 'tab')).map(([n, how]) =>
    described(`indent ${how} line #${n}`, (bytes) => {
        const lines = bytes.split('\n');
        const i = n % lines.length;
        const l = lines[i]!;
        lines[i] = how === 'more' ? `  ${l}` : how === 'less' ? l.replace(/^ {1,2}/, '') : l.replace(/^ +/, '\t');
        return lines.join('\n');
    }),
  ),
  // insert bytes, tabs, colons, `${` … anywhere
  fc.tuple(fc.nat(), insertion).map(([n, ins]) =>
    described(`insert ${JSON.stringify(ins)} at #${n}`, (bytes) => {
      const at = n % (bytes.length + 1);
      return bytes.slice(0, at) + ins + bytes.slice(at);
    }),
  ),
  // replace the value of a `key: value` line with something else
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...SCALARS), fc.string({ maxLength: 16 }))).map(([n, v]) =>
    described(`value of key line #${n} := ${JSON.stringify(v)}`, (bytes) => {
        const lines = bytes.split('\n');
        const candidates = lines.map((l, i) => (/^\s*[^#\s][^:]*:\s+\S/.test(l) ? i : -1)).filter((i) => i >= 0);
        if (candidates.length === 0) return bytes;
        const i = candidates[n % candidates.length]!;
        lines[i] = lines[i]!.replace(/^(\s*[^:]*:\s+).*$/, (_, k: string) => k + toBytes(v));
        return lines.join('\n');
    }),
  ),
  // truncate
  fc.nat().map((n) => described(`truncate at #${n}`, (bytes) => bytes.slice(0, n % (bytes.length + 1)))),
  // structure-aware: parse, put a random JSON value at a random place, write back
  fc.tuple(fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom<unknown>(null, -1, 1e300, 'x', [], {}))).map(([n, value]) =>
    described(`node #${n} := ${JSON.stringify(value)}`, (bytes) => {
        let doc: unknown;
        try {
          doc = parseYamlValue(Buffer.from(bytes, 'latin1').toString('utf8'), { merge: true, logLevel: 'silent' });
        } catch {
          return bytes;
        }
        const slots: [Record<string, unknown> | unknown[], string | number][] = [];
        const walk = (v: unknown) => {
          if (Array.isArray(v)) v.forEach((x, i) => (slots.push([v, i]), walk(x)));
          else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) slots.push([v as Record<string, unknown>, k]), walk(x);
        };
        walk(doc);
        if (slots.length === 0) return bytes;
        const [parent, key] = slots[n % slots.length]!;
        (parent as Record<string | number, unknown>)[key] = value;
        return toBytes(stringifyYaml(doc));
    }),
  ),
);

const mutant = fc.record({
  file: fc.constantFrom(...FILES),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
});

const MUTATING: readonly DockerMethod[] = ['createNetwork', 'removeNetwork', 'createVolume', 'pullImage', 'createContainer', 'startContainer', 'stopContainer', 'removeContainer', 'renameContainer', 'connectNetwork', 'disconnectNetwork', 'exec'];

/** Reads pass through to the engine; a mutating call is refused (and counted by the wrapper around it). */
function readOnly(inner: DockerPort): DockerPort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if ((MUTATING as readonly string[]).includes(String(prop))) return () => Promise.reject(new Error(`fuzz: refused ${String(prop)}`));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

const LOCATED_LINE = /^(stacks|berth\.ya?ml)[^\s:]*:\d+:\d+: error: /;

/** What every run must satisfy, whatever the mutant. */
function checkOutput(r: CliRun, repo: string, allowed: number[], mutant: string): void {
  const why = `${r.output}\n--- the mutated file:\n${mutant.slice(0, 4000)}`;
  expect(allowed, why).toContain(r.code);
  expect(r.output, why).not.toMatch(/^\s{4}at /m);
  expect(r.output, why).not.toMatch(/^berth: /m);
  expect(r.output, why).not.toContain(ENV.POSTGRES_PASSWORD);
  const errorLines = r.output.split('\n').filter((l) => /(^|: )error: /.test(l));
  // Every error names its file; a mutation changes the contents of files
  // (never which files exist), so each one also has a line and column.
  // Errors name repo-relative files (only the summary and plan header name the directory).
  for (const l of errorLines) {
    expect(l, why).toMatch(LOCATED_LINE);
    expect(l, why).not.toContain(repo);
  }
  if (r.code === 1) expect(errorLines.length, why).toBeGreaterThan(0);
}

let validators: Validators;
let repo: string;
const originals = new Map<string, string>();
const tally = { runs: 0, valid: 0, invalid: 0, planRuns: 0 };

beforeAll(() => {
  validators = createValidators();
  repo = join(mkdtempSync(join(tmpdir(), 'berth-fuzz-')), 'repo');
  cpSync(EXAMPLE, repo, { recursive: true });
  for (const f of FILES) originals.set(f, readFileSync(join(repo, f), 'latin1'));
});

afterAll(() => {
  rmSync(join(repo, '..'), { recursive: true, force: true });
  console.log(`[fuzz] seed ${SEED}: ${tally.runs} mutants through validate (${tally.valid} valid, ${tally.invalid} invalid), ${tally.planRuns} through plan`);
});

/** Write the mutant over its file; `restore` puts the original back. */
function plant(file: string, mutations: Mutation[]): { text: string; restore: () => void } {
  const original = originals.get(file)!;
  const mutated = Buffer.from(mutations.reduce((b, m) => m(b), original), 'latin1');
  writeFileSync(join(repo, file), mutated);
  return { text: `${file}:\n${mutated.toString('utf8')}`, restore: () => writeFileSync(join(repo, file), Buffer.from(original, 'latin1')) };
}

describe('fuzz: random mutations of the example repository', () => {
  it('the unmutated example is valid (so the mutations are what breaks it)', async () => {
    const r = await runCli(['validate', '--repo', repo], ENV, { validators });
    expect(r.code, r.output).toBe(0);
  });

  it(`berth validate never crashes, exits 0 or 1, and locates every error (seed ${SEED}, ${RUNS} runs)`, async () => {
    console.log(`[fuzz] validate: seed ${SEED}, ${RUNS} runs (FUZZ_SEED / FUZZ_RUNS to change)`);
    await fc.assert(
      fc.asyncProperty(mutant, async ({ file, mutations }) => {
        const { text, restore } = plant(file, mutations);
        try {
          const r = await runCli(['validate', '--repo', repo], ENV, { validators });
          checkOutput(r, repo, [0, 1], text);
          tally.runs++;
          if (r.code === 0) tally.valid++;
          else tally.invalid++;
        } finally {
          restore();
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it(`berth plan on mutants makes no mutating Docker call (seed ${SEED}, ${PLAN_RUNS} runs)`, async (ctx) => {
    if (!(await requireEngine())) ctx.skip();
    const real = DockerodeDocker.fromEnv(process.env);
    const stateDir = mkdtempSync(join(tmpdir(), 'berth-fuzz-state-'));
    try {
      await fc.assert(
        fc.asyncProperty(mutant, async ({ file, mutations }) => {
          const { text, restore } = plant(file, mutations);
          try {
            const counting = new CountingDocker(readOnly(real));
            const r = await runCli(['plan', '--repo', repo], { ...ENV, BERTH_STATE_DIR: stateDir }, { docker: async () => counting, validators });
            // 2: a valid mutant has changes pending (nothing of it exists); plan only ever reads.
            checkOutput(r, repo, [0, 1, 2], text);
            const mutating = Object.entries(counting.snapshot()).filter(([m]) => (MUTATING as readonly string[]).includes(m));
            expect(mutating, r.output).toEqual([]);
            tally.planRuns++;
          } finally {
            restore();
          }
        }),
        { seed: SEED + 1, numRuns: PLAN_RUNS },
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
