import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Controller } from '../../src/loop/controller.js';
import { HostsRunner, type SharedFetch } from '../../src/loop/hosts-runner.js';
import type { TargetSpec } from '../../src/model/desired.js';
import type { GitPort } from '../../src/ports/git.js';
import { silentLogger } from '../../src/ports/logger.js';
import { tmpRepo } from '../support/tmp-repo.js';

/** A controller stand-in that records what the runner asks of it. */
class FakeController {
  readonly triggers: string[] = [];
  started = false;
  stopped = false;
  constructor(
    readonly spec: TargetSpec,
    readonly shared: SharedFetch,
  ) {}
  start() {
    this.started = true;
  }
  trigger(reason: string) {
    this.triggers.push(reason);
  }
  async stop() {
    this.stopped = true;
  }
  idle() {
    return Promise.resolve();
  }
  isReady() {
    return this.triggers.length > 0;
  }
  status() {
    return { running: false };
  }
}

const hostsYaml = (hosts: Record<string, string>) =>
  `hosts:\n${Object.entries(hosts)
    .map(([name, docker]) => `  ${name}:\n    docker: ${docker}\n    stacks: [${name}]\n`)
    .join('')}`;

function setup(berthYaml: string, git: Partial<GitPort> = {}, only?: string, log = silentLogger) {
  const repo = tmpRepo({ 'berth.yaml': berthYaml, 'stacks/a/compose.yaml': 'services: {}\n' });
  let fetches = 0;
  const made: FakeController[] = [];
  const runner = new HostsRunner(
    { repo, branch: 'main', intervalMs: 3_600_000, ...(only !== undefined ? { only } : {}) },
    {
      git: {
        localRevision: async () => {
          fetches++;
          return { revision: `rev${fetches}`, subject: 's', author: 'a', dirty: false };
        },
        ...git,
      } as GitPort,
      clock: { now: () => 0 } as never,
      env: { DB: 'tcp://10.0.0.7:2376' },
      log,
      makeController: async (spec, shared) => {
        const c = new FakeController(spec, shared);
        made.push(c);
        return c as unknown as Controller;
      },
    },
  );
  return { repo, runner, made, fetches: () => fetches };
}

describe('HostsRunner (berth run with hosts:)', () => {
  it('fetches once for all hosts, starts one controller per host in berth.yaml order and hands each the same fetch', async () => {
    const { runner, made, fetches } = setup(hostsYaml({ 'app-1': 'unix:///a.sock', 'db-1': '${DB}' }));
    runner.start();
    await runner.idle();
    expect(fetches()).toBe(1);
    expect(made.map((c) => [c.spec.name, c.spec.docker, c.started, c.triggers])).toEqual([
      ['app-1', 'unix:///a.sock', true, ['startup']],
      ['db-1', 'tcp://10.0.0.7:2376', true, ['startup']],
    ]);
    const [a, b] = await Promise.all(made.map((c) => c.shared.fetch()));
    expect(a!.source.revision).toBe('rev1');
    expect(b).toBe(a);
    runner.trigger('webhook:github');
    await runner.idle();
    expect(fetches()).toBe(2);
    expect(made.map((c) => c.triggers.at(-1))).toEqual(['webhook:github', 'webhook:github']);
    expect(runner.isReady(() => false)).toBe(true);
    await runner.stop();
    expect(made.every((c) => c.stopped)).toBe(true);
  });

  it('a `mode: swarm` host gets a controller like any host (the caller picks which kind), triggered with the others', async () => {
    const { runner, made } = setup(`${hostsYaml({ 'app-1': 'unix:///a.sock' })}  cluster:\n    docker: unix:///m.sock\n    mode: swarm\n    stacks: [shop]\n`, {});
    runner.start();
    await runner.idle();
    expect(made.map((c) => [c.spec.name, c.spec.mode])).toEqual([
      ['app-1', 'engine'],
      ['cluster', 'swarm'],
    ]);
    await runner.stop();
  });

  it('`berth run --host NAME`: only that host gets a controller; a name berth.yaml does not have drives none', async () => {
    const one = setup(hostsYaml({ 'app-1': 'unix:///a.sock', 'db-1': 'unix:///b.sock' }), {}, 'db-1');
    one.runner.start();
    await one.runner.idle();
    expect(one.made.map((c) => [c.spec.name, c.started])).toEqual([['db-1', true]]);
    await one.runner.stop();
    const none = setup(hostsYaml({ 'app-1': 'unix:///a.sock' }), {}, 'nope');
    none.runner.start();
    await none.runner.idle();
    expect(none.made).toEqual([]);
    await none.runner.stop();
  });

  it('follows berth.yaml: a host added gets a controller, a host removed or moved to another endpoint has its controller stopped', async () => {
    const { repo, runner, made } = setup(hostsYaml({ 'app-1': 'unix:///a.sock', 'db-1': 'unix:///b.sock' }));
    runner.start();
    await runner.idle();
    writeFileSync(join(repo, 'berth.yaml'), hostsYaml({ 'db-1': 'unix:///b2.sock', 'cache-1': 'unix:///c.sock' }));
    runner.trigger('file-change');
    await runner.idle();
    expect(made.map((c) => [c.spec.name, c.spec.docker, c.stopped])).toEqual([
      ['app-1', 'unix:///a.sock', true],
      ['db-1', 'unix:///b.sock', true],
      ['db-1', 'unix:///b2.sock', false],
      ['cache-1', 'unix:///c.sock', false],
    ]);
    expect(runner.hosts().map((l) => l.spec.name)).toEqual(['db-1', 'cache-1']);
    // A berth.yaml that does not parse keeps the hosts there are; their controllers report it.
    writeFileSync(join(repo, 'berth.yaml'), 'hosts: [\n');
    runner.trigger('file-change');
    await runner.idle();
    expect(runner.hosts().map((l) => l.spec.name)).toEqual(['db-1', 'cache-1']);
    await runner.stop();
  });

  it('a failed fetch is every host\'s: their fetch rejects with it, the runner shows it once; a host that is down never holds readiness', async () => {
    let fail = false;
    const { runner, made } = setup(hostsYaml({ 'app-1': 'unix:///a.sock', 'db-1': 'unix:///b.sock' }));
    runner.start();
    await runner.idle();
    const git = (runner as unknown as { deps: { git: GitPort } }).deps.git;
    const ok = git.localRevision.bind(git);
    git.localRevision = async (dir) => {
      if (fail) throw new Error('git: repository not reachable');
      return ok(dir);
    };
    fail = true;
    runner.trigger('interval');
    await runner.idle();
    await expect(made[0]!.shared.fetch()).rejects.toThrow('repository not reachable');
    expect(runner.fetchStatus().fetchError).toMatchObject({ message: 'git: repository not reachable', failures: 1 });
    made[1]!.triggers.length = 0;
    made[1]!.isReady = () => false;
    expect(runner.isReady(() => false)).toBe(false);
    expect(runner.isReady((h) => h === 'db-1')).toBe(true);
    await runner.stop();
  });
});
