import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LintJson } from '../../src/lint/render.js';
import { runCli } from '../support/cli.js';
import { stackRepo } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

/** `berth lint` in-process: exit codes 0 clean · 2 warnings · 1 errors, text and JSON. No Docker. */
const ROOT = join(import.meta.dirname, '..', '..');
const SEEDS = join(ROOT, 'test', 'fixtures', 'seeds');
const GOLDEN = join(ROOT, 'test', 'fixtures', 'lint');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const HARDENED = 'security_opt: [no-new-privileges:true], cap_drop: [ALL], mem_limit: 64m';

describe('berth lint', () => {
  it('exits 0 on the example repo, which is hardened like the seeds', async () => {
    const r = await runCli(['lint', '--repo', join(ROOT, 'desired-state')]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toBe('Lint: clean, no findings.');
  });

  it('exits 2 on warnings, grouped by stack with FILE positions, one why per rule that fired', async () => {
    const repo = tmpRepo(
      stackRepo({
        api: `services:\n  api:\n    image: acme/api:1\n    security_opt: [no-new-privileges:true]\n    mem_limit: 64m\n`,
        data: `services:\n  pg:\n    image: postgres:18.1\n    ports: ["5432:5432"]\n    ${HARDENED.replace(/, /g, '\n    ')}\n`,
      }),
    );
    const r = await runCli(['lint', '--repo', repo]);
    expect(r.code, r.output).toBe(2);
    expect(r.stdout).toBe(
      [
        'Stack api (stacks/api/compose.yaml)',
        '  2:3  warning  api/api  cap-drop-all: cap_drop lacks ALL',
        '',
        'Stack data (stacks/data/compose.yaml)',
        '  4:5  warning  data/pg  db-port-published: database-tier service publishes 0.0.0.0:5432->5432/tcp',
        '',
        'Why:',
        "  db-port-published  a database port published on a public interface is one weak password away from the internet (and Docker bypasses ufw); publish on 127.0.0.1 or not at all",
        "  cap-drop-all       Docker's default capabilities (chown, setuid, net_raw, ...) are more than most services need: drop ALL, add back only what is needed",
        '',
        'Lint: 0 errors, 2 warnings. Silence a rule for one service with x-berth.lint.ignore: [rule]; make it an error with lint.errors in berth.yaml.',
      ].join('\n'),
    );
  });

  it('exits 1 when a rule listed under lint.errors fires', async () => {
    const repo = tmpRepo(stackRepo({ s: 'services:\n  app: {image: "acme/app:latest", security_opt: [no-new-privileges:true], cap_drop: [ALL], mem_limit: 64m}\n' }, 'lint: {errors: [image-latest]}\n'));
    const r = await runCli(['lint', '--repo', repo]);
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toContain('2:9  error  s/app  image-latest: image acme/app:latest uses the latest tag');
    expect(r.stdout).toContain('Lint: 1 error, 0 warnings.');
  });

  it('exits 1 on an invalid repo with the located validation errors, linting nothing', async () => {
    const r = await runCli(['lint', '--repo', join(ROOT, 'test', 'fixtures', 'invalid', 'dangling-refs')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stacks/web/compose.yaml:4:22: error: services.web.networks[1]');
    expect(r.stderr).toContain('nothing was linted');
    expect(r.stdout).not.toContain('Lint:');
  });

  it('--json gives findings with rule, severity, object and position, and every rule with its effective severity', async () => {
    const repo = tmpRepo(stackRepo({ s: 'services:\n  app:\n    image: acme/app:1\n' }, 'lint: {errors: [cap-drop-all]}\n'));
    const r = await runCli(['lint', '--json', '--repo', repo]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as LintJson;
    expect(doc).toMatchObject({ clean: false, errors: 1, warnings: 2 });
    expect(doc.findings[0]).toEqual({
      rule: 'no-new-privileges',
      severity: 'warning',
      stack: 's',
      service: 'app',
      object: 's/app',
      message: 'security_opt lacks no-new-privileges:true',
      file: 'stacks/s/compose.yaml',
      line: 2,
      col: 3,
    });
    // cap-drop-all by lint.errors; swarm-database-unpinned is an error by default.
    expect(doc.rules.filter((x) => x.severity === 'error').map((x) => x.id)).toEqual(['cap-drop-all', 'swarm-database-unpinned']);
    expect(doc.rules).toHaveLength(10);

    const invalid = await runCli(['lint', '--json', '--repo', join(ROOT, 'test', 'fixtures', 'invalid', 'dangling-refs')]);
    expect(invalid.code).toBe(1);
    expect((JSON.parse(invalid.stdout) as { valid: boolean }).valid).toBe(false);
  });
});

/** The secret values planted in a seed's .env files (all start `fixture-secret-`): none may be printed. */
function plantedSecrets(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === '.env') {
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          const v = line.split('=').slice(1).join('=').trim();
          if (v.startsWith('fixture-secret-')) out.push(v);
        }
      }
    }
  };
  walk(dir);
  return out;
}

describe('berth lint on the five seed setups (golden)', () => {
  const seeds = readdirSync(SEEDS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

  it('has the five seeds', () => {
    expect(seeds).toEqual(['cerniq', 'everyskill', 'geniussuite', 'okt', 'pagodirecto']);
  });

  for (const seed of seeds) {
    it(seed, async () => {
      const r = await runCli(['lint', '--repo', join(SEEDS, seed)], { SLACK_WEBHOOK_URL: 'https://hooks.example.invalid/lint' });
      const golden = join(GOLDEN, `${seed}.golden`);
      if (UPDATE || !existsSync(golden)) writeFileSync(golden, `${r.stdout}\n`);
      expect(`${r.stdout}\n`).toBe(readFileSync(golden, 'utf8'));
      // The seeds are hardened unevenly: each has warnings, none is an error without lint.errors.
      expect(r.code, r.stderr).toBe(2);
      for (const secret of plantedSecrets(join(SEEDS, seed))) expect(r.output).not.toContain(secret);
    });
  }
});
