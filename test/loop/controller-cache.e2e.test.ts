import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { SimpleGitPort } from '../../src/adapters/simple-git.js';
import { StateDir } from '../../src/adapters/state-dir.js';
import { createValidators, type Validators } from '../../src/compose/schema.js';
import { Controller } from '../../src/loop/controller.js';
import type { ReconcileResult } from '../../src/model/outcome.js';
import { systemClock } from '../../src/ports/clock.js';
import type { GitPort } from '../../src/ports/git.js';
import { silentLogger } from '../../src/ports/logger.js';
import { removePrefixed } from '../support/berth-objects.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { until } from '../support/until.js';

/**
 * `berth run`'s passes against the real engine, in process: a pass that only
 * Docker events asked for (a container stopped) runs no git subprocess and
 * re-reads no file; a pass on the same clean commit re-reads no file either;
 * a new commit is read again.
 */
const prefix = `${uniqueName('ctlcache')}-`;
const stack = `${prefix}app`;
let engine = false;
let controller: Controller | null = null;

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, stdio: 'pipe' }).toString();

const compose = (mark: string) => `services:\n  worker:\n    image: berth-test/worker:1\n    environment: {MARK: "${mark}"}\n    x-berth: {minReadySeconds: 0}\n`;

/** Schema checks run once per loaded Compose file: counting them counts file loads. */
function countingValidators(inner: Validators, count: { loads: number }): Validators {
  const compose = new Proxy(inner.compose, {
    apply(target, self, args) {
      count.loads++;
      return Reflect.apply(target, self, args);
    },
  });
  return { ...inner, compose };
}

beforeAll(async () => {
  engine = await requireEngine();
});

afterAll(async () => {
  await controller?.stop();
  if (engine) await removePrefixed(prefix);
});

describe('controller passes that have nothing new to read', () => {
  it('heal without git or a re-read; the same clean commit is not re-read; a new commit is', async (ctx) => {
    if (!engine) ctx.skip();
    const repo = tmpRepo({ [`stacks/${stack}/compose.yaml`]: compose('one'), 'berth.yaml': 'policy:\n  prune: false\n' });
    git(repo, 'init', '-q');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'one');
    const stateDir = mkdtempSync(join(tmpdir(), 'berth-state-'));
    const real = new SimpleGitPort(join(stateDir, 'repos'));
    const calls = { git: 0 };
    const gitPort: GitPort = {
      fetch: (url, branch) => real.fetch(url, branch),
      localRevision: (dir) => {
        calls.git++;
        return real.localRevision(dir);
      },
      objectIds: (dir, revision, paths) => real.objectIds(dir, revision, paths),
      changedPaths: (dir, paths) => real.changedPaths(dir, paths),
      readBlob: (dir, oid) => real.readBlob(dir, oid),
      readTree: (dir, oid) => real.readTree(dir, oid),
    };
    const count = { loads: 0 };
    const results: ReconcileResult[] = [];
    controller = new Controller(
      { repo, branch: 'main', intervalMs: 3_600_000, name: 'test' },
      {
        docker: DockerodeDocker.fromEnv({}),
        git: gitPort,
        state: new StateDir(stateDir),
        clock: systemClock,
        env: {},
        log: silentLogger,
        validators: countingValidators(createValidators(), count),
        events: { reconciled: (r) => results.push(r) },
      },
    );
    controller.start();
    const container = `${stack}-worker-1`;
    const running = async () => (await docker(['inspect', '-f', '{{.State.Running}}', container])).stdout.trim() === 'true';
    await until('first converge', async () => results.some((r) => r.outcome === 'converged') && (await running()), 60_000);
    await controller.idle();
    expect(calls.git).toBe(1);
    expect(count.loads).toBe(1);

    // A stopped container: healed by a pass the Docker events asked for.
    const passes = results.length;
    expect((await docker(['stop', '-t', '1', container])).code).toBe(0);
    await until('healed', async () => results.length > passes && (await running()), 30_000);
    await controller.idle();
    expect(results.slice(passes).some((r) => r.apply?.results.some((op) => op.kind === 'service.start' && op.status === 'ok'))).toBe(true);
    expect(calls.git).toBe(1);
    expect(count.loads).toBe(1);

    // An interval pass on the same clean commit asks git, reads no file.
    const before = results.length;
    controller.trigger('interval');
    await until('interval pass', async () => results.length > before, 30_000);
    await controller.idle();
    expect(calls.git).toBe(2);
    expect(count.loads).toBe(1);

    // An uncommitted edit is read (the tree is dirty), and so is a new commit.
    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), compose('two'));
    const edited = results.length;
    controller.trigger('interval');
    await until('pass on the edited tree', async () => results.length > edited, 30_000);
    await controller.idle();
    expect(count.loads).toBe(2);
    git(repo, 'commit', '-qam', 'two');
    const committed = results.length;
    controller.trigger('interval');
    await until('pass on the new commit', async () => results.length > committed, 30_000);
    await controller.idle();
    expect(count.loads).toBe(3);
    expect((await docker(['inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', container])).stdout).toContain('MARK=two');
  });
});
