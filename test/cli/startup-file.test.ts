import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

/**
 * dist/bundle/main.js, what `berth` and the e2e suites start, is a small
 * CommonJS file written by scripts/bundle.mjs: it answers `--version` itself
 * and hands everything else to the bundle (main.mjs). Both ways must say
 * exactly what the program says in-process.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const START = join(ROOT, 'dist', 'bundle', 'main.js');
const EXAMPLE = join(ROOT, 'desired-state');

function spawnBerth(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [START, ...args], { encoding: 'utf8', env: { ...process.env, POSTGRES_PASSWORD: 'startup-file-test' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli keeps lines; the process writes each with its newline. */
const asWritten = (lines: string) => (lines === '' ? '' : `${lines}\n`);

describe.skipIf(!existsSync(START))('the start-up file of the bundle', () => {
  it.each([['--version'], ['-V']])('answers %s as commander does in-process', async (flag) => {
    const inProcess = await runCli([flag]);
    const spawned = spawnBerth([flag]);
    expect(spawned).toEqual({ code: inProcess.code, stdout: asWritten(inProcess.stdout), stderr: '' });
    expect(spawned.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it.each([
    ['--version', 'extra'],
    ['--help'],
    ['validate', '--repo', EXAMPLE],
    ['validate', '--repo', join(EXAMPLE, 'no-such-dir')],
    ['no-such-command'],
  ])('hands %s … to the program: same exit code and output as in-process', async (...args) => {
    const inProcess = await runCli(args, { POSTGRES_PASSWORD: 'startup-file-test' });
    const spawned = spawnBerth(args);
    expect(spawned.code).toBe(inProcess.code);
    expect(spawned.stdout).toBe(asWritten(inProcess.stdout));
    expect(spawned.stderr).toBe(asWritten(inProcess.stderr));
  });
});
