import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { DEFAULT_UPDATE_CONFIG } from '../../src/model/desired.js';
import { findService } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const load = (compose: string) => loadDesiredState(tmpRepo({ 'stacks/shop/compose.yaml': compose }), { env: {}, validators });
const errors = (compose: string) =>
  load(compose)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.file}:${d.line}:${d.col}: ${d.path}: ${d.message}`);

describe('replicas and update_config in the Compose file', () => {
  it('reads deploy.replicas and update_config, durations in milliseconds', () => {
    const r = load(`services:
  web:
    image: berth-test/web:v1
    deploy:
      replicas: 3
      update_config:
        parallelism: 2
        delay: 1m30s
        failure_action: continue
        monitor: 10s
        max_failure_ratio: 0.34
        order: start-first
`);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const web = findService(r.state!, 'shop', 'web');
    expect(web.replicas).toBe(3);
    expect(web.updateConfig).toEqual({ parallelism: 2, delayMs: 90_000, failureAction: 'continue', monitorMs: 10_000, maxFailureRatio: 0.34, order: 'start-first' });
  });

  it('defaults: one replica, one at a time, roll back on failure, order from x-berth', () => {
    const web = findService(load('services:\n  web:\n    image: berth-test/web:v1\n').state!, 'shop', 'web');
    expect(web.replicas).toBe(1);
    expect(web.updateConfig).toEqual(DEFAULT_UPDATE_CONFIG);
    expect(DEFAULT_UPDATE_CONFIG).toMatchObject({ parallelism: 1, failureAction: 'rollback', order: null });
  });

  it('scale as a service key; zero replicas is allowed (the service runs nothing)', () => {
    expect(findService(load('services:\n  web:\n    image: berth-test/web:v1\n    scale: 4\n').state!, 'shop', 'web').replicas).toBe(4);
    expect(findService(load('services:\n  web:\n    image: berth-test/web:v1\n    deploy: {replicas: 0}\n').state!, 'shop', 'web').replicas).toBe(0);
  });

  it('container_name with more than one replica is a located error', () => {
    expect(errors('services:\n  web:\n    image: berth-test/web:v1\n    container_name: fixed-web\n    deploy:\n      replicas: 2\n')).toEqual([
      'stacks/shop/compose.yaml:4:5: services.web.container_name: a fixed container_name allows one container, but the service asks for 2 replicas (deploy.replicas); remove container_name or run one replica',
    ]);
    expect(errors('services:\n  web:\n    image: berth-test/web:v1\n    container_name: fixed-web\n    deploy:\n      replicas: 1\n')).toEqual([]);
  });

  it('scale and deploy.replicas that disagree are a located error, as in docker compose', () => {
    expect(errors('services:\n  web:\n    image: berth-test/web:v1\n    scale: 2\n    deploy:\n      replicas: 3\n')).toEqual([
      'stacks/shop/compose.yaml:4:12: services.web.scale: `scale: 2` and `deploy.replicas: 3` disagree; set one of them',
    ]);
  });

  it('bad update_config values are located errors (the schema enum, then berth checks)', () => {
    expect(errors('services:\n  web:\n    image: berth-test/web:v1\n    deploy:\n      update_config:\n        order: sideways\n')).toEqual([
      'stacks/shop/compose.yaml:6:16: services.web.deploy.update_config.order: must be one of: "start-first", "stop-first"',
    ]);
    const e = errors('services:\n  web:\n    image: berth-test/web:v1\n    deploy:\n      update_config:\n        delay: soon\n        failure_action: explode\n');
    expect(e).toEqual([
      'stacks/shop/compose.yaml:6:16: services.web.deploy.update_config.delay: delay must be a duration such as 500ms, 10s or 1m',
      'stacks/shop/compose.yaml:7:25: services.web.deploy.update_config.failure_action: failure_action must be rollback, pause or continue',
    ]);
  });
});
