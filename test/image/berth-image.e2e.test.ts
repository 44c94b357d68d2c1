import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { isolatedCopy } from '../support/isolated-repo.js';

/**
 * The berth Docker image (Dockerfile), as CI builds it: scripts/berth-image.sh
 * makes `berth:local` against a base made from this host (no registry here).
 * Every berth command runs inside the container, against the real engine
 * through the mounted socket, as the image's unprivileged user.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const IMAGE = process.env.BERTH_IMAGE ?? 'berth:local';
const SOCKET = '/var/run/docker.sock';

const prefix = `${uniqueName('img')}-`;
let ready = false;
const tmpDirs: string[] = [];

function inCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** A copy of `src` that the container's user (not root) can read: bind mounts keep host modes. */
function readableCopy(src: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-${prefix}`));
  tmpDirs.push(dir);
  cpSync(src, dir, { recursive: true });
  openUp(dir);
  return dir;
}

function openUp(path: string): void {
  execFileSync('chmod', ['-R', 'a+rX', path]);
}

/**
 * `docker run --rm` of the image with the engine socket, its group and `repo`
 * at /repo. No network: the socket is all a one-shot command needs.
 */
function berthInContainer(repo: string, args: string[]) {
  return docker(['run', '--rm', '--network', 'none', '-v', `${SOCKET}:${SOCKET}`, '--group-add', String(statSync(SOCKET).gid), '-v', `${repo}:/repo:ro`, IMAGE, ...args], {
    timeoutMs: 90_000,
  });
}

function gitHead(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function inspect<T>(what: string, format: string): Promise<T> {
  const r = await docker(['inspect', '--format', `{{json ${format}}}`, what]);
  if (r.code !== 0) throw new Error(`docker inspect ${what}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  if (!(await requireEngine())) return;
  const found = await docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE]);
  if (found.code !== 0) {
    const msg = `image ${IMAGE} is missing; build it with: bash scripts/berth-image.sh`;
    if (inCI()) throw new Error(`CI: ${msg} (.ci/run does this before npm test)`);
    console.warn(`[image] skipping the berth image tests: ${msg}`);
    return;
  }
  // A local image built before the latest changes tests old code: say so (CI always rebuilds).
  const built = (await docker(['image', 'inspect', '--format', '{{index .Config.Labels "org.opencontainers.image.revision"}}', IMAGE])).stdout.trim();
  const head = gitHead() ?? '';
  if (built !== head) console.warn(`[image] ${IMAGE} was built from ${built || 'an unknown revision'}, HEAD is ${head || 'unknown'}: rebuild with bash scripts/berth-image.sh`);
  ready = true;
});


afterAll(async () => {
  if (ready) {
    // -v: the controller's state dir is an anonymous volume (VOLUME in the image)
    await docker(['rm', '-f', '-v', `${prefix}berth`]);
    await removePrefixed(prefix);
  }
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('the berth image', () => {
  it('runs as a non-root user behind tini, with a HEALTHCHECK and the state dir as a volume', async (ctx) => {
    if (!ready) ctx.skip();
    const uid = await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'id', IMAGE, '-u']);
    expect(uid.code).toBe(0);
    expect(Number(uid.stdout.trim())).toBeGreaterThan(0);

    const config = await inspect<{
      User: string;
      Entrypoint: string[];
      Healthcheck?: { Test: string[] };
      Volumes: Record<string, unknown> | null;
      Env: string[];
    }>(IMAGE, '.Config');
    expect(config.User).toBe('berth');
    expect(config.Entrypoint.slice(0, 2)).toEqual(['tini', '--']);
    expect(config.Healthcheck?.Test).toEqual(['CMD', 'node', '/opt/berth/healthcheck.mjs']);
    expect(Object.keys(config.Volumes ?? {})).toEqual(['/var/lib/berth']);
    expect(config.Env).toContain('BERTH_STATE_DIR=/var/lib/berth');
  });

  it('validates the example repository from inside the container', async (ctx) => {
    if (!ready) ctx.skip();
    const repo = isolatedCopy(join(ROOT, 'desired-state'), prefix);
    tmpDirs.push(repo);
    openUp(repo);
    const r = await berthInContainer(repo, ['validate', '--repo', '/repo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid: 4 stacks, 6 services in \/repo \(0 errors, 0 warnings\)/);
  });

  it('reports an invalid repository exactly as the CLI on the host does (golden)', async (ctx) => {
    if (!ready) ctx.skip();
    // unknown keys need the Compose schema (dclint) at run time for "did you mean"
    const fixture = join(ROOT, 'test', 'fixtures', 'invalid', 'unknown-keys');
    const r = await berthInContainer(readableCopy(fixture), ['validate']);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toBe(readFileSync(join(fixture, 'expected.txt'), 'utf8'));
  });

  it('plans the example repository through the mounted socket as the CLI on the host does', async (ctx) => {
    if (!ready) ctx.skip();
    const repo = isolatedCopy(join(ROOT, 'desired-state'), prefix);
    tmpDirs.push(repo);
    openUp(repo);
    const r = await berthInContainer(repo, ['plan', '--repo', '/repo']);
    // Nothing with this prefix exists, so every object of the repo is to be created.
    expect(r.code, r.stderr).toBe(2);
    for (const line of [`+ ${prefix}edge`, `+ ${prefix}backend`, `+ ${prefix}pgdata`, `+ ${prefix}data/postgres`, `+ ${prefix}web/web`]) {
      expect(r.stdout).toContain(line);
    }
    // The same plan as the host's CLI with an equally empty state dir. Warnings
    // name other tests' objects on the shared engine, which come and go.
    const state = mkdtempSync(join(tmpdir(), `berth-${prefix}state-`));
    tmpDirs.push(state);
    const host = await runCli(['plan', '--repo', repo], { BERTH_STATE_DIR: state });
    // The first line names the repo as each side sees it (/repo in the container).
    const ours = (text: string) => text.split('\n').filter((l) => !l.startsWith('Warning: ') && !l.startsWith('Desired state: ')).join('\n').trim();
    expect(r.stdout).toMatch(/^Desired state: \/repo \(working tree\)/);
    expect(host.code).toBe(2);
    expect(ours(r.stdout)).toBe(ours(host.stdout));
  });

  it('plans from a git URL: git in the image clones into the state dir', async (ctx) => {
    if (!ready) ctx.skip();
    const work = mkdtempSync(join(tmpdir(), `berth-${prefix}url-`));
    tmpDirs.push(work);
    const src = join(work, 'src');
    const stack = `${prefix}url`;
    mkdirSync(join(src, 'stacks', stack), { recursive: true });
    writeFileSync(join(src, 'stacks', stack, 'compose.yaml'), 'services:\n  worker:\n    image: berth-test/worker:1\n');
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, encoding: 'utf8' }).trim();
    git(src, 'init', '-q', '-b', 'main');
    git(src, 'add', '-A');
    git(src, 'commit', '-qm', 'one worker');
    git(work, 'clone', '-q', '--bare', src, 'remote.git');
    openUp(work);
    const r = await docker([
      'run', '--rm', '--network', 'none',
      '-v', `${SOCKET}:${SOCKET}`, '--group-add', String(statSync(SOCKET).gid),
      '-v', `${join(work, 'remote.git')}:/remote.git:ro`,
      IMAGE, 'plan', '--repo', 'file:///remote.git', '--branch', 'main',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain(`+ ${stack}/worker`);
  });

  it('berth run becomes healthy, applies a mounted git repo, and stops at once on docker stop', async (ctx) => {
    if (!ready) ctx.skip();
    // A git repo owned by root, as a checkout on the host would be: the
    // container's user must still read its revision.
    const repo = mkdtempSync(join(tmpdir(), `berth-${prefix}run-`));
    tmpDirs.push(repo);
    const stack = `${prefix}app`;
    mkdirSync(join(repo, 'stacks', stack), { recursive: true });
    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), 'services:\n  worker:\n    image: berth-test/worker:1\n');
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo, encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'one worker');
    const revision = git('rev-parse', 'HEAD');
    chmodSync(repo, 0o755);
    openUp(repo);

    // On a network of its own, as it would sit on Traefik's network.
    const net = `${prefix}net`;
    const made = await docker(['network', 'create', net]);
    expect(made.code, made.stderr).toBe(0);
    const name = `${prefix}berth`;
    // With the hardening the README's compose snippet uses.
    const started = await docker([
      'run', '-d', '--name', name, '--network', net,
      '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true',
      '-v', `${SOCKET}:${SOCKET}`, '--group-add', String(statSync(SOCKET).gid),
      '-v', `${repo}:/repo:ro`,
      IMAGE, 'run', '--repo', '/repo', '--interval', '1h', '--listen', '0.0.0.0:9090',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const logs = async () => {
      const r = await docker(['logs', name]);
      return r.stdout + r.stderr;
    };

    // Healthy within the image's own healthcheck timing: by the end of the
    // start period plus the retries' worth of intervals (Docker reports ns).
    const hc = await inspect<{ Interval: number; StartPeriod: number; Retries: number }>(IMAGE, '.Config.Healthcheck');
    const limitMs = (hc.StartPeriod + hc.Interval * hc.Retries) / 1e6;
    const t0 = Date.now();
    let health = '';
    while (Date.now() - t0 < limitMs) {
      health = await inspect<string>(name, '.State.Health.Status');
      if (health === 'healthy' || health === 'unhealthy') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const checks = await inspect<{ ExitCode: number; Output: string }[]>(name, '.State.Health.Log');
    console.log(
      `[image] berth run ${health} after ${((Date.now() - t0) / 1000).toFixed(1)} s (limit ${limitMs / 1000} s); checks: ${checks.map((c) => `${c.ExitCode} ${c.Output.trim()}`).join(' | ')}`,
    );
    expect(health, await logs()).toBe('healthy');

    // Listening on 0.0.0.0 means reachable on the container's address, as Traefik would dial it.
    const ip = await inspect<string>(name, `(index .NetworkSettings.Networks "${net}").IPAddress`);
    const res = await fetch(`http://${ip}:9090/healthz`);
    expect(res.status).toBe(200);

    // It deploys from inside the container, with the commit of the mounted repo.
    const worker = `${stack}-worker-1`;
    let labels: Record<string, string> | null = null;
    const t1 = Date.now();
    while (Date.now() - t1 < 60_000) {
      const r = await docker(['inspect', '--format', '{{json .Config.Labels}}', worker]);
      if (r.code === 0) {
        labels = JSON.parse(r.stdout) as Record<string, string>;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(labels, await logs()).not.toBeNull();
    expect(labels?.['io.berth.managed']).toBe('true');
    expect(labels?.['io.berth.revision']).toBe(revision);

    // docker stop sends SIGTERM to tini, which passes it to berth: exit 0, not
    // a SIGKILL after the stop timeout (that would be exit code 137).
    const t2 = Date.now();
    const stopped = await docker(['stop', '--time', '30', name]);
    const seconds = (Date.now() - t2) / 1000;
    console.log(`[image] docker stop took ${seconds.toFixed(1)} s`);
    expect(stopped.code).toBe(0);
    const state = await inspect<{ ExitCode: number; OOMKilled: boolean }>(name, '.State');
    expect(state.ExitCode, await logs()).toBe(0);
    expect(await logs()).toContain('"msg":"stopped"');
  });
});
