import { describe, expect, it } from 'vitest';
import { stackPattern } from '../../src/compose/hosts.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { partitionByTarget, selectTargets } from '../../src/targets/targets.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const svc = (extra = '') => `services:\n  app:\n    image: berth-test/worker:1\n${extra}`;

function load(berthYaml: string, stacks: Record<string, string>) {
  const files: Record<string, string> = { 'berth.yaml': berthYaml };
  for (const [name, compose] of Object.entries(stacks)) files[`stacks/${name}/compose.yaml`] = compose;
  return loadDesiredState(tmpRepo(files), { env: {}, validators });
}

const errors = (r: ReturnType<typeof load>) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`);

describe('berth.yaml hosts:', () => {
  it('globs match whole stack names; only * and ? are special', () => {
    expect(stackPattern('web*').test('web-api')).toBe(true);
    expect(stackPattern('web*').test('myweb')).toBe(false);
    expect(stackPattern('a?c').test('abc')).toBe(true);
    expect(stackPattern('a.c').test('abc')).toBe(false);
  });

  it('splits the desired state by host, each stack on exactly one', () => {
    const r = load('hosts:\n  app-1:\n    docker: unix:///run/a.sock\n    stacks: [web, "api*"]\n  db-1:\n    docker: tcp://10.0.0.7:2376\n    tls: {ca: /c, cert: /e, key: /k}\n    stacks: [data]\n', {
      web: svc(),
      'api-v2': svc(),
      data: svc(),
    });
    expect(errors(r)).toEqual([]);
    const parts = partitionByTarget(r.state!);
    expect(parts.map((p) => [p.name, p.desired.stacks.map((s) => s.name)])).toEqual([
      ['app-1', ['api-v2', 'web']],
      ['db-1', ['data']],
    ]);
    expect(parts[1]!.spec).toMatchObject({ docker: 'tcp://10.0.0.7:2376', tls: { ca: '/c', cert: '/e', key: '/k' }, mode: 'engine' });
    expect(selectTargets(parts, 'db-1')).toHaveLength(1);
    expect(selectTargets(parts, 'nope')).toEqual({ error: '--host nope: no such host in berth.yaml (hosts: app-1, db-1)' });
  });

  it('without hosts: one implicit target with everything, and --host is an error', () => {
    const r = load('policy: {prune: true}\n', { web: svc() });
    const parts = partitionByTarget(r.state!);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.name).toBeNull();
    expect(selectTargets(parts, 'x')).toMatchObject({ error: expect.stringContaining('has no `hosts:`') });
  });

  it('a stack on no host, or on two, is a located error', () => {
    const r = load('hosts:\n  a:\n    docker: unix:///a.sock\n    stacks: ["*"]\n  b:\n    docker: unix:///b.sock\n    stacks: [web]\n', { web: svc(), lone: svc() });
    expect(errors(r)).toEqual(['berth.yaml:7:14 stack-on-two-hosts']);
    const r2 = load('hosts:\n  a:\n    docker: unix:///a.sock\n    stacks: [web]\n', { web: svc(), lone: svc() });
    expect(errors(r2)).toEqual(['berth.yaml:1:1 stack-without-host']);
    expect(r2.diagnostics.find((d) => d.code === 'stack-without-host')!.message).toContain('"lone"');
  });

  it('a network defined by a stack on another host is a located error in the referencing file', () => {
    const r = load('hosts:\n  a:\n    docker: unix:///a.sock\n    stacks: [infra]\n  b:\n    docker: unix:///b.sock\n    stacks: [web]\n', {
      infra: svc('networks:\n  edge:\n    name: edge\n'),
      web: svc('    networks: [edge]\nnetworks:\n  edge:\n    external: true\n'),
    });
    expect(errors(r)).toEqual(['stacks/web/compose.yaml:6:3 external-on-other-host']);
    expect(r.diagnostics.find((d) => d.code === 'external-on-other-host')!.message).toBe(
      'external network "edge" is defined by stack "infra" on host "a", but stack "web" runs on host "b"; both stacks must be on the same host',
    );
  });

  it('refuses a malformed docker URL and tls on a non-tcp endpoint, located; a swarm host is accepted', () => {
    const r = load('hosts:\n  a:\n    docker: 10.0.0.1\n    stacks: [web]\n', { web: svc() });
    expect(errors(r)).toEqual(['berth.yaml:3:13 schema']);
    const r2 = load('hosts:\n  a:\n    docker: unix:///a.sock\n    tls: {ca: /c, cert: /e, key: /k}\n    stacks: [web]\n  s:\n    docker: tcp://m:2376\n    mode: swarm\n    stacks: [x]\n', { web: svc(), x: svc() });
    expect(errors(r2)).toEqual(['berth.yaml:4:10 host-tls']);
  });

  it('a caller that drives one engine (berth run) refuses hosts: instead of putting every stack on DOCKER_HOST', () => {
    const files = { 'berth.yaml': 'policy: {prune: true}\nhosts:\n  a:\n    docker: unix:///a.sock\n    stacks: [web]\n', 'stacks/web/compose.yaml': svc() };
    const r = loadDesiredState(tmpRepo(files), { env: {}, validators, refuseHosts: 'not here' });
    expect(r.state).toBeNull();
    expect(errors(r)).toEqual(['berth.yaml:2:1 hosts-unsupported']);
  });
});
