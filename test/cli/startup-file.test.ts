import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

/**
 * dist/bundle/main.js, what `berth` and the e2e suites start, is a small
 * CommonJS file written by scripts/bundle.mjs: it answers `--version` itself
 * and runs everything else from the bundle (main.cjs) with its V8 code cache.
 * Both ways must say exactly what the program says in-process, and V8 must
 * take the cache (else every command compiles 1 MB of code again).
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
  it('the code cache belongs to this bundle and V8 takes it; the bundle is ASCII only', () => {
    const file = join(ROOT, 'dist', 'bundle', 'main.cjs');
    const bytes = readFileSync(file);
    expect(bytes.every((b) => b <= 0x7f)).toBe(true);
    const cache = readFileSync(`${file}.v8cache`);
    expect(cache.toString('latin1', 0, 64)).toBe(createHash('sha256').update(bytes).digest('hex'));
    // The wrapper main.js uses, byte for byte (V8 takes a cache only for the identical source).
    const start = readFileSync(START, 'utf8');
    expect(start).toContain("'(function (exports, require, module, __filename, __dirname) {' + readFileSync(file, 'latin1') + '\\n})'");
    const script = new Script(`(function (exports, require, module, __filename, __dirname) {${bytes.toString('latin1')}\n})`, { filename: file, cachedData: cache.subarray(64) });
    expect(script.cachedDataRejected).toBe(false);
  });
});
