import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const BERTH = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'dist', 'bundle', 'main.js');

/** One `berth …` process of the built bundle, timed from spawn to exit (what a user waits for), its output kept. */
export function timedBerth(args: string[], env: Record<string, string>): Promise<{ code: number | null; ms: number; out: string }> {
  return new Promise((res, rej) => {
    const t = performance.now();
    const c = spawn(process.execPath, [BERTH, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', rej);
    c.on('close', (code) => res({ code, ms: performance.now() - t, out }));
  });
}
