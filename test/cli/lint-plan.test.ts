import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingDocker } from '../../src/adapters/counting-docker.js';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import type { Finding } from '../../src/lint/finding.js';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { requireEngine, uniqueName } from '../support/engine.js';
import { isolatedCopy } from '../support/isolated-repo.js';
import { stackRepo } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Lint inside `berth plan` and `berth apply`, against the real engine: findings
 * are warnings below the plan and change neither the plan nor its exit code;
 * a rule listed under `lint.errors` stops both before any Docker call.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const prefixes: string[] = [];
let engine = false;

function setup(src: string) {
  const prefix = `${uniqueName('lint')}-`;
  prefixes.push(prefix);
  return { prefix, repo: isolatedCopy(src, prefix), env: { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) } };
}

/** A worker with no hardening at all: three warnings. */
const UNHARDENED = stackRepo({ app: 'services:\n  worker: {image: "berth-test/worker:1"}\n' });

beforeAll(async () => {
  engine = await requireEngine();
});

afterAll(async () => {
  if (engine) for (const p of prefixes) await removePrefixed(p);
});

describe('lint in plan and apply', () => {
  it('plan prints the findings below the plan as warnings; exit code and plan are unchanged', async (ctx) => {
    if (!engine) ctx.skip();
    const { prefix, repo, env } = setup(tmpRepo(UNHARDENED));
    const r = await runCli(['plan', '--repo', repo], env);
    expect(r.code, r.output).toBe(2);
    const planEnd = r.stdout.indexOf('Plan: 2 to create');
    const lintAt = r.stdout.indexOf('Lint: 0 errors, 3 warnings');
    expect(planEnd, r.stdout).toBeGreaterThan(0);
    expect(lintAt).toBeGreaterThan(planEnd);
    expect(r.stdout).toContain(`  stacks/${prefix}app/compose.yaml:2:3: warning: ${prefix}app/worker: cap_drop lacks ALL [cap-drop-all]`);

    const json = await runCli(['plan', '--json', '--repo', repo], env);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout) as { ops: unknown[]; lint: { errors: number; warnings: number; findings: Finding[] } };
    expect(doc.ops).toHaveLength(2);
    expect(doc.lint).toMatchObject({ errors: 0, warnings: 3 });
    expect(doc.lint.findings.map((f) => f.rule)).toEqual(['no-new-privileges', 'cap-drop-all', 'memory-limit-missing']);
  });

  it('plan of the hardened example repo has no lint section', async (ctx) => {
    if (!engine) ctx.skip();
    const { repo, env } = setup(join(ROOT, 'desired-state'));
    const r = await runCli(['plan', '--repo', repo], env);
    expect(r.code, r.output).toBe(2);
    expect(r.output).not.toContain('Lint:');
    expect(r.output).not.toMatch(/\[[a-z-]+\]$/m);
  });

  it('with the rule under lint.errors, plan and apply exit 1 and make no Docker call at all', async (ctx) => {
    if (!engine) ctx.skip();
    const { prefix, repo, env } = setup(tmpRepo({ ...UNHARDENED, 'berth.yaml': 'lint:\n  errors: [memory-limit-missing]\n' }));
    const counting = new CountingDocker(DockerodeDocker.fromEnv({}));
    for (const cmd of ['plan', 'apply']) {
      const r = await runCli([cmd, '--repo', repo], env, { docker: async () => counting });
      expect(r.code, r.output).toBe(1);
      expect(r.stderr).toContain(`stacks/${prefix}app/compose.yaml:2:3: error: ${prefix}app/worker: no memory limit (mem_limit or deploy.resources.limits.memory) [memory-limit-missing]`);
      expect(r.stderr).toContain('nothing was changed');
      // Only the escalated rule is an error; the other findings do not block.
      expect(r.stderr).not.toContain('error: ' + `${prefix}app/worker: cap_drop`);
    }
    const json = await runCli(['apply', '--json', '--repo', repo], env, { docker: async () => counting });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ result: 'refused', lint: { errors: 1, warnings: 2 } });
    expect(counting.snapshot()).toEqual({});
    expect(await listPrefixed(prefix)).toEqual({ containers: [], networks: [], volumes: [] });

    // Silenced for the service, the same repo applies.
    const { repo: ok, env: env2, prefix: p2 } = setup(
      tmpRepo({
        'stacks/app/compose.yaml': 'services:\n  worker:\n    image: berth-test/worker:1\n    x-berth: {minReadySeconds: 1, lint: {ignore: [memory-limit-missing]}}\n',
        'berth.yaml': 'lint:\n  errors: [memory-limit-missing]\n',
      }),
    );
    const applied = await runCli(['apply', '--repo', ok], env2);
    expect(applied.code, applied.output).toBe(0);
    expect((await listPrefixed(p2)).containers).toEqual([`${p2}app-worker-1`]);
  });
});
