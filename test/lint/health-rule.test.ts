import { describe, expect, it } from 'vitest';
import { healthcheckMissing } from '../../src/lint/rules/health.js';
import { desiredFrom, stackRepo } from '../support/plan-fixtures.js';

const one = (services: string) => desiredFrom(stackRepo({ s: `services:\n${services}` }));

describe('healthcheck-missing', () => {
  it('reports a service others wait on with service_healthy that declares no health check, naming who waits', () => {
    const d = one(
      [
        '  db: {image: "acme/db:1"}',
        '  api: {image: "acme/api:1", depends_on: {db: {condition: service_healthy}}}',
        '  worker: {image: "acme/worker:1", depends_on: {db: {condition: service_healthy}}}',
      ].join('\n') + '\n',
    );
    const fs = healthcheckMissing.check(d);
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ object: 's/db', service: 'db', at: ['services', 'db', 'healthcheck'] });
    expect(fs[0]!.message).toBe('no healthcheck in the Compose file, but api, worker wait for it with condition: service_healthy (a HEALTHCHECK built into the image is not visible to berth)');
  });

  it('reports a disabled health check (disable: true or test NONE)', () => {
    const d = one(
      [
        '  a: {image: "acme/a:1", healthcheck: {disable: true}}',
        '  b: {image: "acme/b:1", healthcheck: {test: ["NONE"]}}',
        '  c: {image: "acme/c:1", depends_on: {a: {condition: service_healthy}, b: {condition: service_healthy}}}',
      ].join('\n') + '\n',
    );
    expect(healthcheckMissing.check(d).map((f) => [f.object, f.message])).toEqual([
      ['s/a', 'healthcheck is disabled, but c waits for it with condition: service_healthy'],
      ['s/b', 'healthcheck is disabled, but c waits for it with condition: service_healthy'],
    ]);
  });

  it('passes a declared health check (also one that keeps the image test), and plain depends_on', () => {
    const d = one(
      [
        '  db: {image: "acme/db:1", healthcheck: {test: ["CMD", "true"]}}',
        '  tuned: {image: "acme/db:1", healthcheck: {interval: 5s}}',
        '  cache: {image: "acme/cache:1"}',
        '  api: {image: "acme/api:1", depends_on: {db: {condition: service_healthy}, tuned: {condition: service_healthy}, cache: {condition: service_started}}}',
      ].join('\n') + '\n',
    );
    expect(healthcheckMissing.check(d)).toEqual([]);
  });
});
