import { describe, expect, it } from 'vitest';
import { containerCreateBody } from '../../src/adapters/container-body.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import type { DesiredState } from '../../src/model/desired.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { appliedFor, containerFor, findService, liveFor, withInventory } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Keys that berth once accepted and read as something else than Compose
 * does (issue 12, the five "B-cases"). Each test here failed before the fix.
 */
const validators = createValidators();
function load(files: Record<string, string>): DesiredState {
  const r = loadDesiredState(tmpRepo(files), { env: {}, validators });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.state!;
}
const errorsOf = (files: Record<string, string>) =>
  loadDesiredState(tmpRepo(files), { env: {}, validators }).diagnostics.filter((d) => d.severity === 'error');

describe('env_file format: raw', () => {
  const files = {
    'stacks/s/compose.yaml': 'services:\n  t:\n    image: alpine\n    env_file:\n      - path: .env.raw\n        format: raw\n      - path: normal.env\n',
    'stacks/s/.env.raw': `TEST_VAR='{"key": "value"}'\nSPACED =  a b  # not a comment\n# a comment\n\nDOLLAR=$HOME\${X}\n`,
    'stacks/s/normal.env': `QUOTED='{"key": "value"}'\n`,
  };
  it('keeps values literally: quotes, spaces, `#` and `$` stay', () => {
    const env = findService(load(files), 's', 't').environment;
    expect(env.TEST_VAR).toBe(`'{"key": "value"}'`);
    expect(env['SPACED ']).toBe('  a b  # not a comment');
    expect(env.DOLLAR).toBe('$HOME${X}');
    // The default format still strips the quotes.
    expect(env.QUOTED).toBe('{"key": "value"}');
  });
  it('an unknown format is a located error', () => {
    const errs = errorsOf({ ...files, 'stacks/s/compose.yaml': 'services:\n  t:\n    image: alpine\n    env_file:\n      - path: .env.raw\n        format: toml\n' });
    expect(errs.map((e) => [e.file, e.line, e.code])).toEqual([['stacks/s/compose.yaml', 6, 'env-file']]);
  });
});

describe('pull_policy daily | weekly | every_<d>', () => {
  const svc = (policy: string) => findService(load({ 'stacks/s/compose.yaml': `services:\n  t:\n    image: alpine\n    pull_policy: ${policy}\n` }), 's', 't');
  it('is its own policy with its interval, not `missing`', () => {
    expect([svc('daily').pullPolicy, svc('daily').pullIntervalSeconds]).toEqual(['interval', 86400]);
    expect(svc('weekly').pullIntervalSeconds).toBe(7 * 86400);
    expect(svc('every_12h').pullIntervalSeconds).toBe(12 * 3600);
    expect(svc('every_1w2d').pullIntervalSeconds).toBe(9 * 86400);
    expect(svc('missing').pullPolicy).toBe('missing');
  });
  it('does not change the config hash (as pull_policy never does)', () => {
    expect(svc('daily').configHash).toBe(svc('missing').configHash);
  });
  it('pulls an absent image', () => {
    const desired = load({ 'stacks/s/compose.yaml': 'services:\n  t:\n    image: alpine\n    pull_policy: daily\n' });
    const plan = buildPlan(desired, { containers: [], networks: [], volumes: [], imageTags: [] }, null, null);
    const op = plan.ops.find((o) => o.kind === 'service.create');
    expect(op?.kind === 'service.create' && op.pull).toBe(true);
  });
});

describe('ipc / pid: service:X', () => {
  const desired = () =>
    load({
      'stacks/s/compose.yaml': 'services:\n  db:\n    image: alpine\n    container_name: the-db\n  side:\n    image: alpine\n    ipc: service:db\n    pid: "service:db"\n',
    });
  it('reach the engine as container:<name of X>', () => {
    const side = findService(desired(), 's', 'side');
    const body = containerCreateBody(side, side.containerName, {}, '1.41');
    expect(body.HostConfig.IpcMode).toBe('container:the-db');
    expect(body.HostConfig.PidMode).toBe('container:the-db');
  });
  it('order the service after X (an implied depends_on)', () => {
    expect(findService(desired(), 's', 'side').dependsOn.map((d) => [d.service, d.restart])).toEqual([['db', true]]);
  });
  it('naming a service that does not exist is a located error', () => {
    const errs = errorsOf({ 'stacks/s/compose.yaml': 'services:\n  side:\n    image: alpine\n    ipc: service:nope\n' });
    expect(errs.map((e) => [e.line, e.code])).toEqual([[4, 'service-reference']]);
  });
  it('recreate the dependent when X is replaced', () => {
    const before = desired();
    const after = load({
      'stacks/s/compose.yaml': 'services:\n  db:\n    image: alpine:3\n    container_name: the-db\n  side:\n    image: alpine\n    ipc: service:db\n    pid: "service:db"\n',
    });
    const live = liveFor(before);
    const plan = buildPlan(after, live, withInventory(appliedFor(before), live), null);
    expect(plan.ops.map((o) => [o.id, o.kind])).toEqual([
      ['service:s/db', 'service.recreate'],
      ['service:s/side', 'service.recreate'],
    ]);
    expect(plan.ops[1]!.after).toEqual(['service:s/db']);
    expect(plan.ops[1]!.reasons[0]).toMatch(/^ipc service:db: db is replaced/);
  });
});

describe('depends_on.<svc>.restart: true', () => {
  const compose = (tag: string) =>
    `services:\n  db:\n    image: postgres:${tag}\n  web:\n    image: app:v1\n    depends_on:\n      db:\n        condition: service_started\n        restart: true\n  other:\n    image: app:v1\n    depends_on: [db]\n`;
  it('restarts the dependent after the dependency is replaced, and only it', () => {
    const before = load({ 'stacks/s/compose.yaml': compose('16') });
    const after = load({ 'stacks/s/compose.yaml': compose('17') });
    const live = liveFor(before);
    const plan = buildPlan(after, live, withInventory(appliedFor(before), live), null);
    const web = plan.ops.find((o) => o.id === 'service:s/web');
    expect(web?.kind).toBe('service.start');
    expect(web?.kind === 'service.start' && web.restart).toBe(true);
    expect(web?.after).toEqual(['service:s/db']);
    expect(web?.reasons[0]).toMatch(/depends on db with `restart: true`/);
    expect(plan.ops.some((o) => o.id === 'service:s/other')).toBe(false);
    expect(plan.ops.findIndex((o) => o.id === 'service:s/db')).toBeLessThan(plan.ops.indexOf(web!));
  });
  it('does not restart a stopped dependent, nor one with no change of the dependency', () => {
    const before = load({ 'stacks/s/compose.yaml': compose('16') });
    const live = liveFor(before);
    expect(buildPlan(before, live, withInventory(appliedFor(before), live), null).ops).toEqual([]);
    const after = load({ 'stacks/s/compose.yaml': compose('17') });
    const web = findService(before, 's', 'web');
    const stopped = { ...live, containers: live.containers.map((c) => (c.name === web.containerName ? containerFor(web, { state: 'exited', status: 'Exited (0) 1 minute ago' }) : c)) };
    const ops = buildPlan(after, stopped, withInventory(appliedFor(before), stopped), null).ops;
    expect(ops.find((o) => o.id === 'service:s/web')?.kind === 'service.start' && (ops.find((o) => o.id === 'service:s/web') as { restart?: boolean }).restart).toBeFalsy();
  });
});

describe('a Windows absolute bind source', () => {
  it('is kept as written, not resolved inside the stack directory', () => {
    const d = load({
      'stacks/s/compose.yaml': 'services:\n  t:\n    image: alpine\n    volumes:\n      - C:\\data:/data\n      - type: bind\n        source: D:/logs\n        target: /logs\n',
    });
    const mounts = findService(d, 's', 't').mounts;
    expect(mounts.map((m) => [m.type, m.type === 'bind' ? m.source : null, m.target])).toEqual([
      ['bind', 'C:\\data', '/data'],
      ['bind', 'D:/logs', '/logs'],
    ]);
  });
});

describe('a one-letter volume name is not a drive', () => {
  it('`d:/d` is volume d at /d', () => {
    const d = load({ 'stacks/s/compose.yaml': 'services:\n  t:\n    image: alpine\n    volumes: ["d:/d", "e:/e:ro"]\nvolumes: {d: {}, e: {}}\n' });
    expect(findService(d, 's', 't').mounts.map((m) => [m.type, m.target])).toEqual([
      ['volume', '/d'],
      ['volume', '/e'],
    ]);
  });
});
