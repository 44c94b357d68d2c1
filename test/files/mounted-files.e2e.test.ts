import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { until } from '../support/until.js';

/**
 * Repository files are desired state (issue 13): a committed change to a
 * bind-mounted file recreates exactly the containers that mount it, and every
 * container keeps reading the revision it was created for, whatever is
 * checked out later.
 */
const prefixes: string[] = [];
let engine = false;
beforeAll(async () => {
  engine = await requireEngine();
});
let child: ChildProcess | null = null;
afterAll(async () => {
  if (child) {
    const c = child;
    await new Promise((r) => {
      c.once('exit', r);
      c.kill('SIGTERM');
    });
  }
  if (!engine) return;
  for (const p of prefixes) await removePrefixed(p);
  for (const p of prefixes) {
    const tags = (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', `berth.local/${p}*`])).stdout.split('\n').filter(Boolean);
    if (tags.length > 0) await docker(['rmi', ...tags]);
  }
});

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' }).trim();

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'bundle', 'main.js');
const cat = async (container: string, path: string) => (await docker(['exec', container, 'cat', path])).stdout.trim();
const containerId = async (name: string) => (await docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();

describe('bind-mounted repository files', () => {
  it('a committed change is planned by name, applied, and never reaches a container made for another revision', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('f')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}edge`;
    const repo = tmpRepo({
      'berth.yaml': 'rollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n',
      [`stacks/${stack}/compose.yaml`]: [
        'services:',
        '  proxy:',
        '    image: berth-test/busybox:1',
        '    command: ["sleep", "3600"]',
        '    stop_signal: SIGKILL',
        '    volumes: ["./conf/proxy.yml:/etc/proxy.yml:ro", "./html:/html:ro"]',
        '    secrets: [token]',
        '  other:',
        '    image: berth-test/busybox:1',
        '    command: ["sleep", "3600"]',
        '    stop_signal: SIGKILL',
        '    volumes: ["./conf/other.yml:/etc/other.yml:ro"]',
        'secrets:',
        '  token:',
        '    file: ./token.txt',
        '',
      ].join('\n'),
      [`stacks/${stack}/conf/proxy.yml`]: 'revision: one\n',
      [`stacks/${stack}/conf/other.yml`]: 'unchanged\n',
      [`stacks/${stack}/html/index.html`]: 'page one\n',
      [`stacks/${stack}/token.txt`]: 's3cret-one\n',
    });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'one');
    const first = git(repo, 'rev-parse', 'HEAD');
    const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };

    const a1 = await runCli(['apply', '--repo', repo], env);
    expect(a1.code, a1.output).toBe(0);
    const proxy = `${stack}-proxy-1`;
    const other = `${stack}-other-1`;
    expect(await cat(proxy, '/etc/proxy.yml')).toBe('revision: one');
    expect(await cat(proxy, '/html/index.html')).toBe('page one');
    expect(await cat(proxy, '/run/secrets/token')).toBe('s3cret-one');
    const otherId = await containerId(other);
    const again = await runCli(['plan', '--repo', repo], env);
    expect(again.code, again.output).toBe(0);

    // Secrets on disk: readable by their owner only, below a directory nobody else can enter.
    const files = join(env.BERTH_STATE_DIR, 'files');
    expect(statSync(files).mode & 0o777).toBe(0o700);
    const secretDir = readdirSync(files).find((n) => n.endsWith('-secret'))!;
    expect(statSync(join(files, secretDir, 'c')).mode & 0o777).toBe(0o400);

    writeFileSync(join(repo, `stacks/${stack}/conf/proxy.yml`), 'revision: two\n');
    writeFileSync(join(repo, `stacks/${stack}/html/index.html`), 'page two\n');
    writeFileSync(join(repo, `stacks/${stack}/token.txt`), 's3cret-two\n');
    git(repo, 'commit', '-qam', 'two');

    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.stdout).toContain(`file stacks/${stack}/conf/proxy.yml changed`);
    expect(plan.stdout).toContain(`file stacks/${stack}/html changed`);
    expect(plan.stdout).toContain('secret token changed');
    expect(plan.output).not.toContain('s3cret');
    expect(plan.stdout).not.toMatch(new RegExp(`~ ${stack}/other`));

    const a2 = await runCli(['apply', '--repo', repo], env);
    expect(a2.code, a2.output).toBe(0);
    expect(await cat(proxy, '/etc/proxy.yml')).toBe('revision: two');
    expect(await cat(proxy, '/html/index.html')).toBe('page two');
    expect(await cat(proxy, '/run/secrets/token')).toBe('s3cret-two');
    // The unchanged file: its container was not touched.
    expect(await containerId(other)).toBe(otherId);

    // A later checkout changes the working tree; the running container keeps its own revision's files.
    git(repo, 'checkout', '-q', first);
    expect(await cat(proxy, '/etc/proxy.yml')).toBe('revision: two');
    expect(await cat(proxy, '/html/index.html')).toBe('page two');

    // Snapshots of the first revision are gone once no container mounts them.
    const left = readdirSync(files);
    expect(left.filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(left.length).toBe(4); // proxy.yml, html, token (revision two) and other.yml
  });
});

/**
 * The controller from git (issue 13, Deliver 5): `berth run` on a remote; a
 * push that changes only a mounted config file replaces exactly the
 * container that mounts it, a push that changes only a file of a build
 * context rebuilds and replaces exactly that service, and a push that
 * changes nothing a service uses restarts nothing.
 */
describe('berth run with repository files', () => {
  it('replaces exactly the containers whose files a push changed', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('fr')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}site`;
    const base = mkdtempSync(join(tmpdir(), 'berth-files-run-'));
    const bare = join(base, 'remote.git');
    const work = join(base, 'work');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    git(work, 'remote', 'add', 'origin', bare);
    const push = (message: string, files: Record<string, string>): string => {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(work, path, '..'), { recursive: true });
        writeFileSync(join(work, path), content);
      }
      git(work, 'add', '-A');
      git(work, 'commit', '-qm', message);
      git(work, 'push', '-q', 'origin', 'main');
      return git(work, 'rev-parse', 'HEAD');
    };
    const first = push('one', {
      'berth.yaml': 'policy:\n  prune: false\nrollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n',
      [`stacks/${stack}/compose.yaml`]: [
        'services:',
        '  proxy:',
        '    image: berth-test/busybox:1',
        '    command: ["sleep", "3600"]',
        '    stop_signal: SIGKILL',
        '    volumes: ["./conf/nginx.conf:/etc/nginx/nginx.conf:ro"]',
        '  web:',
        '    build: ./app',
        '    command: ["sleep", "3600"]',
        '    stop_signal: SIGKILL',
        '',
      ].join('\n'),
      [`stacks/${stack}/conf/nginx.conf`]: 'worker_processes 1;\n',
      [`stacks/${stack}/app/Dockerfile`]: 'FROM berth-test/busybox:1\nCOPY page.txt /page.txt\n',
      [`stacks/${stack}/app/page.txt`]: 'page one\n',
      [`stacks/${stack}/README.md`]: 'notes\n',
    });

    const port = await freePort();
    let logs = '';
    child = spawn(process.execPath, [CLI, 'run', '--repo', `file://${bare}`, '--branch', 'main', '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--insecure-webhook'], {
      env: { ...process.env, BERTH_STATE_DIR: join(base, 'state') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const http = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);
    type Status = { running: boolean; lastResult: { outcome: string; revision: string } | null };
    const handled = (revision: string) =>
      until(
        `revision ${revision} handled`,
        async () => {
          const s = (await (await http('/api/status')).json()) as Status;
          return !s.running && s.lastResult?.revision === revision ? s.lastResult : null;
        },
        90_000,
        () => logs.slice(-4000),
      );
    const pushAndSettle = async (message: string, files: Record<string, string>) => {
      const revision = push(message, files);
      const builds = logs.split('"msg":"image build"').length;
      expect((await http('/webhook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ref":"refs/heads/main"}' })).status).toBe(202);
      const result = await handled(revision);
      return { result, builds: logs.split('"msg":"image build"').length - builds };
    };
    const proxy = `${stack}-proxy-1`;
    const web = `${stack}-web-1`;
    try {
      // A pass the new containers' Docker events asked for may have followed the apply: both outcomes are a converged host.
      expect(['converged', 'in-sync']).toContain((await handled(first)).outcome);
      expect(await cat(proxy, '/etc/nginx/nginx.conf')).toBe('worker_processes 1;');
      expect(await cat(web, '/page.txt')).toBe('page one');
      const ids1 = { proxy: await containerId(proxy), web: await containerId(web) };

      /** A push settled: how many images it built, and which of the two containers it replaced. */
      let ids = ids1;
      const expectPush = async (message: string, files: Record<string, string>, want: { builds: number; replaced: 'proxy' | 'web' | null }) => {
        const r = await pushAndSettle(message, files);
        expect(['converged', 'in-sync'], logs.slice(-4000)).toContain(r.result.outcome);
        expect(r.builds).toBe(want.builds);
        const now = { proxy: await containerId(proxy), web: await containerId(web) };
        expect(now.proxy === ids.proxy, 'proxy kept').toBe(want.replaced !== 'proxy');
        expect(now.web === ids.web, 'web kept').toBe(want.replaced !== 'web');
        ids = now;
        return r.result;
      };

      // Only the mounted file: the proxy is replaced and reads it; the built service is neither rebuilt nor touched.
      await expectPush('conf', { [`stacks/${stack}/conf/nginx.conf`]: 'worker_processes 2;\n' }, { builds: 0, replaced: 'proxy' });
      expect(await cat(proxy, '/etc/nginx/nginx.conf')).toBe('worker_processes 2;');

      // Only a file of the build context: that service is rebuilt (once) and replaced; the proxy is untouched.
      await expectPush('page', { [`stacks/${stack}/app/page.txt`]: 'page two\n' }, { builds: 1, replaced: 'web' });
      expect(await cat(web, '/page.txt')).toBe('page two');

      // A file no service uses: nothing is built or replaced.
      expect((await expectPush('notes', { [`stacks/${stack}/README.md`]: 'more notes\n' }, { builds: 0, replaced: null })).outcome).toBe('in-sync');
    } finally {
      recordCapture('berth run (repository files) stdout+stderr', logs);
    }
  });
});
