import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingDocker, type DockerMethod } from '../../src/adapters/counting-docker.js';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { createValidators, type Validators } from '../../src/compose/schema.js';
import type { DockerPort } from '../../src/ports/docker.js';
import { fullListing } from '../support/berth-objects.js';
import { runCli, type CliRun } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { GENERATORS } from '../fixtures/bad/generators.js';

/**
 * The bad-input corpus (issue 8): every directory of test/fixtures/bad is a
 * broken desired-state repository. `berth plan` and `berth apply` must both
 * exit 1, name the problem at FILE:LINE:COL (or FILE for whole-file
 * problems), print no stack trace, and make no mutating Docker call — the
 * engine listing is the same before and after.
 *
 * A case is its files plus:
 *   expected.txt  one line per diagnostic that must appear (`{prefix}` is the
 *                 case's unique name prefix, `{id}` a short container id,
 *                 `{path}` a host path outside the repository);
 *                 written by UPDATE_GOLDEN=1
 *   case.json     optional: {"generate": name in generators.ts,
 *                 "engine": {containers|volumes|networks: [names]} created
 *                 unmanaged before the run, "stackPrefix": true to put the
 *                 prefix on every stack directory, "env": {...}}
 * Cases with `engine` are valid files that only the host makes invalid:
 * `berth validate` passes them, plan and apply refuse them.
 */
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'bad');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface CaseSpec {
  generate?: string;
  engine?: { containers?: string[]; volumes?: string[]; networks?: string[] };
  stackPrefix?: boolean;
  env?: Record<string, string>;
}

/** Calls that change the engine. Everything else (list, inspect, ping, events) only reads. */
const MUTATING: readonly DockerMethod[] = [
  'createNetwork',
  'removeNetwork',
  'createVolume',
  'pullImage',
  'createContainer',
  'startContainer',
  'stopContainer',
  'removeContainer',
  'renameContainer',
  'connectNetwork',
  'disconnectNetwork',
  'exec',
];

/**
 * The real engine for reads; mutating calls are refused instead of passed
 * on, so a regression shows up as a failed count here and never as a stray
 * container on an engine other people are testing against.
 */
function readOnly(inner: DockerPort): DockerPort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if ((MUTATING as readonly string[]).includes(String(prop))) {
        return () => Promise.reject(new Error(`bad-input test: refused mutating call ${String(prop)}`));
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

function mutatingCalls(c: CountingDocker): Record<string, number> {
  return Object.fromEntries(Object.entries(c.snapshot()).filter(([m]) => (MUTATING as readonly string[]).includes(m)));
}

/** A diagnostic line: repo-relative file, optional :LINE:COL, severity. */
const LOCATED = /^(stacks|berth\.ya?ml)[^\s:]*(:\d+:\d+)?: (error|warning): /;

function errorLines(output: string): string[] {
  return [...new Set(output.split('\n').filter((l) => LOCATED.test(l) && l.includes(': error: ')))];
}

/** An expected line as a pattern: literal, except `{id}` (a container's short id) and `{path}` (a host path). */
function expectedLine(line: string): RegExp {
  const literal = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(line.split('{path}').map((part) => part.split('{id}').map(literal).join('[0-9a-f]{12}')).join('/\\S+?'));
}

function assertClean(r: CliRun, repo: string, what: string): void {
  expect(r.code, `${what}\n${r.output}`).toBe(1);
  // Not the catch-all of main() ("berth: <exception message>"): a crash, not a diagnostic.
  expect(r.output, what).not.toMatch(/^berth: /m);
  expect(errorLines(r.output).length, `${what}: no located error\n${r.output}`).toBeGreaterThan(0);
  // Not one frame of a stack trace, and no absolute path of the checkout (errors name repo-relative
  // files) except where plan and apply say which directory they read.
  expect(r.output, what).not.toMatch(/^\s{4}at /m);
  const body = r.output.split('\n').filter((l) => !l.startsWith('Desired state: '));
  expect(body.join('\n'), what).not.toContain(repo);
  // Every line that says error is located.
  for (const line of r.output.split('\n')) {
    if (/(^|: )error: /.test(line)) expect(line, what).toMatch(LOCATED);
  }
}

/**
 * Objects in a listing that this case could have made: names built from its
 * stacks or its prefix. Other people's tests change the shared engine at the
 * same time; their objects must not fail this test. (The refusing Docker port
 * above is what guarantees nothing is changed; the listing is the check from
 * the outside.)
 */
function relevant(listing: string, markers: string[]): string[] {
  return listing
    .split('\n')
    .filter((line) => {
      // Containers and networks list `ID NAME …`, volumes `NAME …`.
      const [first = '', second = ''] = line.split(' ');
      return markers.some((m) => first.startsWith(m) || second.startsWith(m));
    })
    .sort();
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

let engine = false;
let real: DockerPort;
/** Compiled once: from src/ (no build) every load would compile the Compose schema again, which is slow here. */
let validators: Validators;
const cleanups: (() => Promise<void>)[] = [];
const timings: string[] = [];

beforeAll(async () => {
  engine = await requireEngine();
  if (engine) real = DockerodeDocker.fromEnv(process.env);
  validators = createValidators();
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  if (timings.length) console.log(`[bad-input] ${timings.join('; ')}`);
  console.log(`[bad-input] ${cases.length} broken repositories, each through validate, plan and apply`);
});

describe('the bad-input corpus', () => {
  it('has at least 60 broken repositories, each with expected located errors', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    for (const name of cases) {
      const file = join(FIXTURES, name, 'expected.txt');
      if (UPDATE && !existsSync(file)) continue;
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      expect(lines.length, name).toBeGreaterThan(0);
      for (const l of lines) expect(l, `${name}: ${l}`).toMatch(LOCATED);
    }
  });

  it('names only generators that exist', () => {
    for (const name of cases) {
      const spec = readSpec(name);
      if (spec.generate) expect(GENERATORS[spec.generate], `${name}: ${spec.generate}`).toBeTypeOf('function');
    }
  });
});

function readSpec(name: string): CaseSpec {
  const p = join(FIXTURES, name, 'case.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as CaseSpec) : {};
}

describe('plan and apply refuse every broken repository and change nothing', () => {
  for (const name of cases) {
    it(name, async (ctx) => {
      if (!engine) ctx.skip();
      const spec = readSpec(name);
      const prefix = `${uniqueName('bad')}-`;
      const work = mkdtempSync(join(tmpdir(), 'berth-bad-'));
      cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
      const repo = join(work, 'repo');
      const outside = join(work, 'outside');
      cpSync(join(FIXTURES, name), repo, { recursive: true, filter: (src) => !/(expected\.txt|case\.json)$/.test(src) });
      const stacksDir = join(repo, 'stacks');
      const stackNames = existsSync(stacksDir) ? readdirSync(stacksDir) : [];
      if (spec.stackPrefix) for (const s of stackNames) renameSync(join(stacksDir, s), join(stacksDir, `${prefix}${s}`));
      if (spec.generate) GENERATORS[spec.generate]!({ repo, outside });

      const fill = (s: string) => s.split('{prefix}').join(prefix);
      const label = `berth.test.bad=${prefix}`;
      for (const c of spec.engine?.containers ?? []) {
        const r = await docker(['create', '--name', fill(c), '--label', label, 'berth-test/busybox:1', 'true']);
        expect(r.code, r.stderr).toBe(0);
        cleanups.push(async () => void (await docker(['rm', '-f', fill(c)])));
      }
      for (const v of spec.engine?.volumes ?? []) {
        expect((await docker(['volume', 'create', '--label', label, fill(v)])).code).toBe(0);
        cleanups.push(async () => void (await docker(['volume', 'rm', '-f', fill(v)])));
      }
      for (const n of spec.engine?.networks ?? []) {
        expect((await docker(['network', 'create', '--label', label, fill(n)])).code).toBe(0);
        cleanups.push(async () => void (await docker(['network', 'rm', fill(n)])));
      }

      const env = { BERTH_STATE_DIR: join(work, 'state'), BERTH_BAD_PREFIX: prefix, ...spec.env };
      const markers = [prefix, ...stackNames.flatMap((s) => [`${s}-`, `${s}_`])];
      const before = await fullListing(prefix);

      const runs: Record<string, CliRun> = {};
      const validate = await runCli(['validate', '--repo', repo], env, { validators });
      expect(validate.output).not.toMatch(/^\s{4}at /m);
      expect(validate.code, validate.output).toBe(spec.engine ? 0 : 1);
      if (!spec.engine) runs.validate = validate;
      for (const cmd of ['plan', 'apply']) {
        const counting = new CountingDocker(readOnly(real));
        const t0 = performance.now();
        const r = await runCli([cmd, '--repo', repo], env, { docker: async () => counting, validators });
        if (spec.generate === 'tenThousandServices') timings.push(`${name} ${cmd}: ${Math.round(performance.now() - t0)} ms`);
        assertClean(r, repo, `${name}: berth ${cmd}`);
        expect(mutatingCalls(counting), `${name}: berth ${cmd} made mutating calls\n${r.output}`).toEqual({});
        runs[cmd] = r;
      }

      if (spec.engine) {
        // Scripts get the same locations: every plan error of --json carries file, line and column.
        const counting = new CountingDocker(readOnly(real));
        const j = await runCli(['plan', '--json', '--repo', repo], env, { docker: async () => counting, validators });
        expect(j.code, j.output).toBe(1);
        const errors = (JSON.parse(j.stdout) as { errors: { code: string; file: string; line: number; col: number }[] }).errors;
        expect(errors.length).toBeGreaterThan(0);
        for (const e of errors) expect(e.file.startsWith('stacks/') && e.line > 0 && e.col > 0, JSON.stringify(e)).toBe(true);
        expect(mutatingCalls(counting)).toEqual({});
      }

      const after = await fullListing(prefix);
      expect(relevant(after, markers), `${name}: the engine changed`).toEqual(relevant(before, markers));

      const golden = join(FIXTURES, name, 'expected.txt');
      if (UPDATE || !existsSync(golden)) {
        const lines = errorLines((spec.engine ? runs.plan : runs.validate)!.output).map((l) =>
          l.split(prefix).join('{prefix}').replace(/\(id [0-9a-f]{12}\b/g, '(id {id}').split(outside).join('{path}').replace(/\{path\}\S*?(?=,)/g, '{path}'),
        );
        writeFileSync(golden, lines.join('\n') + '\n');
      }
      const expected = readFileSync(golden, 'utf8').split('\n').filter(Boolean).map(fill);
      for (const [cmd, r] of Object.entries(runs)) {
        for (const line of expected) expect(r.output, `${name}: berth ${cmd} should print\n${line}`).toMatch(expectedLine(line));
      }
    });
  }
});
