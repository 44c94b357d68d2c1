// Helpers for tests that talk to a real Docker engine.
//
// Usage in an integration test file:
//
//   let engine = false;
//   const label = `berth.test=${uniqueName('t')}`;
//   beforeAll(async () => { engine = await requireEngine(); });
//   afterAll(async () => { if (engine) await cleanupByLabel(label); });
//   it('does something', async (ctx) => {
//     if (!engine) ctx.skip();
//     await docker(['network', 'create', '--label', label, uniqueName('net')]);
//   });
//
// Locally, without an engine, such tests skip; in CI (CI set) they fail loudly.
// The engine and images come from scripts/ensure-docker.sh and scripts/test-images.sh.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface DockerResult {
  stdout: string;
  stderr: string;
  /** exit code; 127 when the docker CLI is missing, 124 on timeout */
  code: number;
}

export interface DockerOptions {
  /** kill the CLI after this long (default 120 s) */
  timeoutMs?: number;
  /** extra environment (merged into process.env), e.g. DOCKER_HOST */
  env?: NodeJS.ProcessEnv;
}

/** The stand-in images scripts/test-images.sh builds (no registry needed). */
export const STAND_IN_IMAGES = [
  'berth-test/busybox:1',
  'berth-test/web:v1',
  'berth-test/web:v2',
  'berth-test/web:bad',
  'berth-test/postgres:18',
  'berth-test/postgres:broken',
  'berth-test/redis:7',
  'berth-test/worker:1',
] as const;

/** The docker CLI against some engine (the shared one by default; a private dockerd's `docker`). */
export type DockerRun = (args: string[]) => Promise<DockerResult>;

/** Run the docker CLI. Never rejects: a failure is a non-zero `code`. */
export function docker(args: string[], opts: DockerOptions = {}): Promise<DockerResult> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      args,
      {
        timeout: opts.timeoutMs ?? 120_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr, code: 0 });
          return;
        }
        const e = error as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        let code: number;
        if (e.code === 'ENOENT') {
          code = 127;
          stderr = `${stderr}docker CLI not found on PATH`;
        } else if (e.killed) {
          code = 124;
          stderr = `${stderr}docker ${args.join(' ')}: timed out after ${opts.timeoutMs ?? 120_000} ms`;
        } else {
          code = typeof e.code === 'number' ? e.code : 1;
        }
        resolve({ stdout, stderr, code });
      },
    );
  });
}

/** Does a Docker engine answer `docker info` (within 10 s)? */
export async function dockerAvailable(): Promise<boolean> {
  const r = await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
  return r.code === 0 && r.stdout.trim() !== '';
}

function inCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * For `beforeAll`: true when the engine answers. Without one, throws under CI
 * (so CI fails loudly) and otherwise returns false so the tests can skip.
 */
export async function requireEngine(): Promise<boolean> {
  if (await dockerAvailable()) return true;
  const msg =
    'no Docker engine answers `docker info`; run `bash scripts/ensure-docker.sh` ' +
    '(and `bash scripts/test-images.sh` for the berth-test/* images)';
  if (inCI()) throw new Error(`CI: ${msg}`);
  console.warn(`[engine] skipping engine tests: ${msg}`);
  return false;
}

/** `prefix-<8 hex>`: a name no other test run uses (valid for containers, networks, volumes, projects). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface CleanupResult {
  containers: number;
  networks: number;
  volumes: number;
}

async function ids(kind: 'container' | 'network' | 'volume', label: string): Promise<string[]> {
  const args =
    kind === 'container'
      ? ['ps', '-aq', '--filter', `label=${label}`]
      : [kind, 'ls', '-q', '--filter', `label=${label}`];
  const r = await docker(args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/**
 * Test teardown: force-remove the containers (with their anonymous volumes),
 * then networks, then volumes carrying `label` ("key" or "key=value").
 * Tries every step; throws at the end if any removal failed.
 */
export async function cleanupByLabel(label: string): Promise<CleanupResult> {
  const errors: string[] = [];
  const result: CleanupResult = { containers: 0, networks: 0, volumes: 0 };
  const steps: [keyof CleanupResult, 'container' | 'network' | 'volume', (xs: string[]) => string[]][] = [
    ['containers', 'container', (xs) => ['rm', '-f', '-v', ...xs]],
    ['networks', 'network', (xs) => ['network', 'rm', ...xs]],
    ['volumes', 'volume', (xs) => ['volume', 'rm', '-f', ...xs]],
  ];
  for (const [key, kind, rmArgs] of steps) {
    try {
      const found = await ids(kind, label);
      if (found.length === 0) continue;
      const r = await docker(rmArgs(found), { timeoutMs: 60_000 });
      if (r.code !== 0) errors.push(`removing ${kind}s: ${r.stderr.trim()}`);
      result[key] = found.length;
    } catch (err) {
      errors.push(String(err instanceof Error ? err.message : err));
    }
  }
  if (errors.length > 0) throw new Error(`cleanupByLabel(${label}): ${errors.join('; ')}`);
  return result;
}
