import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { mergeService } from '../../src/compose/merge.js';
import { createValidators } from '../../src/compose/schema.js';
import { findService } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const load = (files: Record<string, string>, env: Record<string, string> = {}) => loadDesiredState(tmpRepo(files), { env, validators });
const ok = (files: Record<string, string>, env: Record<string, string> = {}) => {
  const r = load(files, env);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.state!;
};

/** Golden: Compose's merge rules, one field family at a time (expected values as `docker compose config` gives them). */
describe('merge rules (golden)', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
    ['scalars: the override replaces', { image: 'a:1', user: 'x' }, { image: 'a:2' }, { image: 'a:2', user: 'x' }],
    ['command and entrypoint replace, never concatenate', { command: ['a', 'b'], entrypoint: ['sh'] }, { command: ['c'] }, { command: ['c'], entrypoint: ['sh'] }],
    [
      'environment: list and mapping merge by key',
      { environment: ['A=1', 'B=2', 'C'] },
      { environment: { B: '3', D: '4' } },
      { environment: { A: '1', B: '3', C: null, D: '4' } },
    ],
    ['labels merge by key', { labels: { a: '1' } }, { labels: ['b=2', 'a=9'] }, { labels: { a: '9', b: '2' } }],
    [
      'volumes: unique by container path, the override wins',
      { volumes: ['./a:/data', 'logs:/logs'] },
      { volumes: [{ type: 'bind', source: './b', target: '/data' }, '/tmp:/tmp'] },
      { volumes: ['logs:/logs', { type: 'bind', source: './b', target: '/data' }, '/tmp:/tmp'] },
    ],
    ['ports: concatenated, duplicates once', { ports: ['80:80', '443:443'] }, { ports: ['80:80', '8080:80'] }, { ports: ['443:443', '80:80', '8080:80'] }],
    ['cap_add and dns: unique values', { cap_add: ['NET_ADMIN'], dns: ['1.1.1.1'] }, { cap_add: ['NET_ADMIN', 'SYS_TIME'], dns: ['8.8.8.8'] }, { cap_add: ['NET_ADMIN', 'SYS_TIME'], dns: ['1.1.1.1', '8.8.8.8'] }],
    [
      'depends_on: list and mapping merge by service',
      { depends_on: ['db'] },
      { depends_on: { cache: { condition: 'service_healthy' }, db: { restart: true } } },
      { depends_on: { db: { restart: true }, cache: { condition: 'service_healthy' } } },
    ],
    ['networks: list and mapping merge by key', { networks: ['front'] }, { networks: { back: { aliases: ['b'] } } }, { networks: { front: {}, back: { aliases: ['b'] } } }],
    ['healthcheck: merged, its test replaced', { healthcheck: { test: ['CMD', 'a'], interval: '5s' } }, { healthcheck: { test: ['CMD', 'b'] } }, { healthcheck: { test: ['CMD', 'b'], interval: '5s' } }],
    ['ulimits: each limit replaced whole', { ulimits: { nofile: { soft: 1, hard: 2 }, nproc: 5 } }, { ulimits: { nofile: 10 } }, { ulimits: { nofile: 10, nproc: 5 } }],
    ['logging: another driver replaces, the same merges options', { logging: { driver: 'json-file', options: { 'max-size': '1m' } } }, { logging: { driver: 'syslog' } }, { logging: { driver: 'syslog' } }],
    ['deploy: deep merge', { deploy: { resources: { limits: { cpus: '1' } } } }, { deploy: { resources: { limits: { memory: '1g' } } } }, { deploy: { resources: { limits: { cpus: '1', memory: '1g' } } } }],
    ['extra_hosts: by host', { extra_hosts: ['a:1.1.1.1', 'b=2.2.2.2'] }, { extra_hosts: { a: '9.9.9.9' } }, { extra_hosts: { a: '9.9.9.9', b: '2.2.2.2' } }],
    ['env_file: unique by path', { env_file: ['a.env', 'b.env'] }, { env_file: [{ path: 'a.env', required: false }] }, { env_file: ['b.env', { path: 'a.env', required: false }] }],
  ];
  it.each(cases)('%s', (_, base, over, expected) => {
    expect(mergeService(base, over)).toEqual(expected);
  });
  it('!reset removes the key, !override replaces instead of merging', () => {
    const tags = new Map([
      ['command', '!reset' as const],
      ['ports', '!override' as const],
    ]);
    expect(mergeService({ command: ['x'], ports: ['80:80'], image: 'a' }, { command: '', ports: ['81:81'] }, tags)).toEqual({ image: 'a', ports: ['81:81'] });
  });
});

describe('extends', () => {
  it('same file, multi-level, Compose merge rules', () => {
    const d = ok({
      'stacks/s/compose.yaml': `
services:
  base:
    image: app:v1
    environment: {A: "1", B: "2"}
    volumes: ["./data:/data"]
  mid:
    extends: base
    environment: [B=3]
    command: ["mid"]
  top:
    extends: {service: mid}
    command: ["top"]
    ports: ["8080:80"]
`,
    });
    const top = findService(d, 's', 'top');
    expect([top.image, top.environment, top.command, top.ports.map((p) => p.published)]).toEqual(['app:v1', { A: '1', B: '3' }, ['top'], [8080]]);
    expect(top.mounts[0]!.type === 'bind' && top.mounts[0]!.source.endsWith('/stacks/s/data')).toBe(true);
  });
  it('another file: its relative paths stay relative to it; !reset drops a key', () => {
    const d = ok({
      'stacks/s/compose.yaml': 'services:\n  web:\n    extends:\n      file: common/base.yaml\n      service: web\n    command: !reset\n',
      'stacks/s/common/base.yaml': 'services:\n  web:\n    image: app:v1\n    command: ["serve"]\n    env_file: ./web.env\n',
      'stacks/s/common/web.env': 'FROM_FILE=yes\n',
    });
    const web = findService(d, 's', 'web');
    expect([web.image, web.command, web.environment]).toEqual(['app:v1', null, { FROM_FILE: 'yes' }]);
  });
  it('a mistake in the extended file is located in that file; an unknown service at the extends', () => {
    const r = load({
      'stacks/s/compose.yaml': 'services:\n  web:\n    extends: {file: base.yaml, service: web}\n  other:\n    extends: nope\n    image: a\n',
      'stacks/s/base.yaml': 'services:\n  web:\n    image: app:v1\n    ports: ["not a port"]\n',
    });
    const errs = r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.file, d.line, d.code]);
    expect(errs).toEqual([
      ['stacks/s/base.yaml', 4, 'port'],
      ['stacks/s/compose.yaml', 5, 'extends-unknown'],
    ]);
  });
  it('a cycle is a located error', () => {
    const r = load({ 'stacks/s/compose.yaml': 'services:\n  a:\n    extends: b\n    image: x\n  b:\n    extends: a\n' });
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toContain('extends-cycle');
  });
});

describe('include', () => {
  it('short and long form; included services are part of the stack, with their project directory and env_file', () => {
    const d = ok({
      'stacks/s/compose.yaml': 'include:\n  - db/compose.yaml\n  - path: cache/compose.yaml\n    env_file: cache.env\nservices:\n  web:\n    image: app:v1\n    depends_on: [db, cache]\n',
      'stacks/s/db/compose.yaml': 'services:\n  db:\n    image: postgres:18\n    volumes: ["./init:/docker-entrypoint-initdb.d", "pg:/var/lib/postgresql"]\nvolumes:\n  pg: {}\n',
      'stacks/s/cache/compose.yaml': 'services:\n  cache:\n    image: "redis:${REDIS_TAG}"\n',
      'stacks/s/cache.env': 'REDIS_TAG=7\n',
    });
    const stack = d.stacks[0]!;
    expect(stack.services.map((s) => s.name)).toEqual(['cache', 'db', 'web']);
    expect(findService(d, 's', 'cache').image).toBe('redis:7');
    const db = findService(d, 's', 'db');
    expect(db.containerName).toBe('s-db-1');
    expect(db.mounts.map((m) => (m.type === 'bind' ? m.source.replace(/.*\/stacks\//, 'stacks/') : m.type === 'volume' ? m.source : ''))).toEqual(['stacks/s/db/init', 's_pg']);
    expect(stack.volumes.map((v) => v.name)).toEqual(['s_pg']);
  });
  it('a service defined twice is a conflict; a missing file is located at the include', () => {
    const r = load({
      'stacks/s/compose.yaml': 'include:\n  - other.yaml\n  - missing.yaml\nservices:\n  web:\n    image: a\n',
      'stacks/s/other.yaml': 'services:\n  web:\n    image: b\n',
    });
    const errs = r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.file, d.line, d.code]);
    expect(errs).toEqual([
      ['stacks/s/compose.yaml', 3, 'include-not-found'],
      ['stacks/s/compose.yaml', 5, 'include-conflict'],
    ]);
  });
});
