import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingDocker } from '../../src/adapters/counting-docker.js';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { removeBuiltImages, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * `build:` on the host (issue 13): built once per content, never again for
 * an unchanged context on any commit, rolled out start-first when it
 * changes, and `git revert` back to an image still on the host.
 */
const prefixes: string[] = [];
let engine = false;
beforeAll(async () => {
  engine = await requireEngine();
});
afterAll(async () => {
  if (!engine) return;
  for (const p of prefixes) await removePrefixed(p);
  for (const p of prefixes) await removeBuiltImages(p);
});

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
/** A committed repo of these files, its own state dir, and plan/apply through a Docker port that counts calls. */
function committed(files: Record<string, string>) {
  const repo = tmpRepo(files);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'one');
  const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };
  const counting = new CountingDocker(DockerodeDocker.fromEnv({}));
  const run = (cmd: 'plan' | 'apply') => runCli([cmd, '--repo', repo], env, { docker: async () => counting });
  return { repo, counting, run };
}
const inspect = async (name: string, format: string) => (await docker(['inspect', '-f', format, name])).stdout.trim();

describe('build on the host', () => {
  it('builds once per content, rolls a change out, reverts to the earlier image without a build or pull, and a failed step changes nothing', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('b')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}web`;
    const compose = [
      'services:',
      '  app:',
      '    build:',
      '      context: ./app',
      '      args:',
      '        GREETING: hello',
      '    command: ["sleep", "3600"]',
      '    stop_signal: SIGKILL',
      '',
    ].join('\n');
    const dockerfile = ['FROM berth-test/busybox:1', 'ARG GREETING', 'COPY page.txt /page.txt', 'RUN echo "$GREETING" > /greeting', ''].join('\n');
    const { repo, counting, run } = committed({
      'berth.yaml': 'rollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n',
      [`stacks/${stack}/compose.yaml`]: compose,
      [`stacks/${stack}/README.md`]: 'notes\n',
      [`stacks/${stack}/app/Dockerfile`]: dockerfile,
      [`stacks/${stack}/app/page.txt`]: 'page one\n',
      [`stacks/${stack}/app/.dockerignore`]: 'secret.txt\n',
      [`stacks/${stack}/app/secret.txt`]: 'not for the image\n',
    });
    const container = `${stack}-app-1`;

    // First apply: one build, and the container runs the built image.
    const a1 = await run('apply');
    expect(a1.code, a1.output).toBe(0);
    expect(counting.count('buildImage')).toBe(1);
    expect(a1.stdout).toMatch(new RegExp(`⚙ ${stack}/app  built berth\\.local/${stack}-app:[0-9a-f]{12}`));
    expect((await docker(['exec', container, 'cat', '/page.txt'])).stdout.trim()).toBe('page one');
    expect((await docker(['exec', container, 'cat', '/greeting'])).stdout.trim()).toBe('hello');
    expect((await docker(['exec', container, 'ls', '/'])).stdout).not.toContain('secret.txt');
    const firstImage = await inspect(container, '{{.Image}}');

    // A second apply, and a commit that does not touch the context: no build.
    counting.reset();
    expect((await run('apply')).code).toBe(0);
    writeFileSync(join(repo, `stacks/${stack}/README.md`), 'more notes\n');
    git(repo, 'commit', '-qam', 'notes');
    const p2 = await run('plan');
    expect(p2.code, p2.output).toBe(0);
    expect(counting.count('buildImage')).toBe(0);

    // A change in the context: built once, rolled out start-first.
    writeFileSync(join(repo, `stacks/${stack}/app/page.txt`), 'page two\n');
    git(repo, 'commit', '-qam', 'two');
    const p3 = await run('plan');
    expect(p3.code, p3.output).toBe(2);
    expect(p3.stdout).toContain(`~ ${stack}/app`);
    expect(p3.stdout).toContain('recreate (start-first, build)');
    expect(p3.stdout).toContain(`build context stacks/${stack}/app changed`);
    counting.reset();
    const a3 = await run('apply');
    expect(a3.code, a3.output).toBe(0);
    expect(counting.count('buildImage')).toBe(1);
    expect((await docker(['exec', container, 'cat', '/page.txt'])).stdout.trim()).toBe('page two');
    const secondImage = await inspect(container, '{{.Image}}');
    expect(secondImage).not.toBe(firstImage);

    // git revert: the first image is still here — no build, no pull.
    git(repo, 'revert', '--no-edit', 'HEAD');
    counting.reset();
    const a4 = await run('apply');
    expect(a4.code, a4.output).toBe(0);
    expect(counting.count('buildImage')).toBe(0);
    expect(counting.count('pullImage')).toBe(0);
    expect(await inspect(container, '{{.Image}}')).toBe(firstImage);

    // A failing RUN step: exit 1, located at the build key, the step's output shown, the container untouched.
    const before = await inspect(container, '{{.Id}}');
    writeFileSync(join(repo, `stacks/${stack}/app/Dockerfile`), `${dockerfile}RUN echo "failing-step-says-hi" && exit 3\n`);
    git(repo, 'commit', '-qam', 'broken');
    const a5 = await run('apply');
    expect(a5.code, a5.output).toBe(1);
    expect(a5.output).toContain(`stacks/${stack}/compose.yaml:3:5`);
    expect(a5.output).toContain('failing-step-says-hi');
    expect(a5.output).toMatch(/Step 5\/5 : RUN echo/);
    expect(a5.output).toContain('nothing was changed');
    expect(await inspect(container, '{{.Id}}')).toBe(before);
    expect(await inspect(container, '{{.Image}}')).toBe(firstImage);
  });

  it('pull_policy: build builds on every apply and never pulls; the same image restarts nothing, a new one replaces the container', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('bp')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}web`;
    const service = (name: string, extra: string[]) => [`  ${name}:`, '    pull_policy: build', '    build:', `      context: ./${name}`, ...extra, '    command: ["sleep", "3600"]', '    stop_signal: SIGKILL'];
    const { counting, run } = committed({
      'berth.yaml': 'rollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n',
      [`stacks/${stack}/compose.yaml`]: ['services:', ...service('cached', []), ...service('fresh', ['      no_cache: true']), ''].join('\n'),
      [`stacks/${stack}/cached/Dockerfile`]: 'FROM berth-test/busybox:1\nCOPY page.txt /page.txt\n',
      [`stacks/${stack}/cached/page.txt`]: 'cached\n',
      // A build whose result differs every time (the builder's cache is off for it).
      [`stacks/${stack}/fresh/Dockerfile`]: 'FROM berth-test/busybox:1\nRUN cat /proc/sys/kernel/random/uuid > /built-id\n',
    });
    const cached = `${stack}-cached-1`;
    const fresh = `${stack}-fresh-1`;

    const a1 = await run('apply');
    expect(a1.code, a1.output).toBe(0);
    expect(counting.count('buildImage')).toBe(2);
    expect(counting.count('pullImage')).toBe(0);
    const ids1 = { cached: await inspect(cached, '{{.Id}}'), fresh: await inspect(fresh, '{{.Id}}') };
    const builtId1 = (await docker(['exec', fresh, 'cat', '/built-id'])).stdout.trim();

    // plan never builds, and sees nothing to do.
    counting.reset();
    const p = await run('plan');
    expect(p.code, p.output).toBe(0);
    expect(counting.count('buildImage')).toBe(0);

    // The next apply builds both again: the cached build gives the same image (untouched), the other a new one (replaced).
    const a2 = await run('apply');
    expect(a2.code, a2.output).toBe(0);
    expect(counting.count('buildImage')).toBe(2);
    expect(counting.count('pullImage')).toBe(0);
    expect(a2.stdout).toContain(`~ ${stack}/fresh  recreated`);
    expect(a2.stdout).not.toContain(`~ ${stack}/cached`);
    expect(await inspect(cached, '{{.Id}}')).toBe(ids1.cached);
    expect(await inspect(fresh, '{{.Id}}')).not.toBe(ids1.fresh);
    expect((await docker(['exec', fresh, 'cat', '/built-id'])).stdout.trim()).not.toBe(builtId1);
  });
});
