import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'invalid');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Every value planted in a fixture's .env files: none may ever be printed. */
function plantedSecrets(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.env')) {
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          const v = line.split('=').slice(1).join('=').trim();
          if (v.length >= 6) found.push(v);
        }
      }
    }
  };
  walk(dir);
  return found;
}

describe('berth validate on broken repositories (golden)', () => {
  const cases = readdirSync(FIXTURES).filter((c) => !c.startsWith('.')).sort();

  it('has the broken repositories', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  for (const name of cases) {
    it(name, async () => {
      const repo = join(FIXTURES, name);
      const r = await runCli(['validate', '--repo', repo]);
      const text = r.output.split(repo).join('<repo>');
      const golden = join(repo, 'expected.txt');
      if (UPDATE || !existsSync(golden)) writeFileSync(golden, text);
      expect(text).toBe(readFileSync(golden, 'utf8'));
      expect(r.code).toBe(1);
      // Every error is located: FILE:LINE:COL, or a file/directory-level problem.
      for (const line of r.stderr.split('\n').filter((l) => l.includes(': error: '))) {
        expect(line).toMatch(/^(stacks|berth\.yaml)[^:]*(:\d+:\d+)?: error: .+ \[[a-z0-9-]+\]$/);
      }
      for (const secret of plantedSecrets(repo)) expect(r.output).not.toContain(secret);
    });
  }
});

describe('berth validate --json', () => {
  it('lists errors with their location', async () => {
    const r = await runCli(['validate', '--json', '--repo', join(FIXTURES, 'dangling-refs')]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { valid: boolean; errors: { file: string; line: number; col: number; code: string }[] };
    expect(doc.valid).toBe(false);
    expect(doc.errors.map((e) => [e.file, e.line, e.col, e.code])).toEqual([
      ['stacks/web/compose.yaml', 4, 22, 'undefined-network'],
      ['stacks/web/compose.yaml', 5, 15, 'mount'],
      ['stacks/web/compose.yaml', 6, 5, 'depends-on-unknown'],
    ]);
  });

  it('exits 1 on a usage error and 0 on --help', async () => {
    expect((await runCli(['validate', '--bogus'])).code).toBe(1);
    expect((await runCli(['--help'])).code).toBe(0);
  });
});
