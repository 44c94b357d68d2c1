import { describe, expect, it } from 'vitest';
import { dbPortPublished, traefikExposedByDefault, traefikExposure } from '../../src/lint/rules/exposure.js';
import { desiredFrom, stackRepo } from '../support/plan-fixtures.js';

const one = (services: string) => desiredFrom(stackRepo({ s: `services:\n${services}` }));

describe('db-port-published', () => {
  it('reports a database-tier service publishing on all interfaces or a public address, naming the ports', () => {
    const d = one(
      [
        '  pg: {image: "postgres:18.1", ports: ["5432:5432"]}',
        '  redis: {image: "redis:7.4", ports: ["203.0.113.7:6379:6379"]}',
        '  mysql: {image: "mysql:8.4", ports: ["3306"]}',
      ].join('\n') + '\n',
    );
    expect(dbPortPublished.check(d).map((f) => [f.object, f.message])).toEqual([
      ['s/mysql', 'database-tier service publishes 0.0.0.0:(any)->3306/tcp'],
      ['s/pg', 'database-tier service publishes 0.0.0.0:5432->5432/tcp'],
      ['s/redis', 'database-tier service publishes 203.0.113.7:6379->6379/tcp'],
    ]);
  });

  it('accepts loopback (IPv4 and IPv6), unpublished databases, and apps publishing ports', () => {
    const d = one(
      [
        '  pg: {image: "postgres:18.1", ports: ["127.0.0.1:5432:5432"]}',
        '  pg6: {image: "postgres:18.1", ports: ["[::1]:5433:5432"]}',
        '  redis: {image: "redis:7.4", expose: ["6379"]}',
        '  web: {image: "nginx:1.27", ports: ["80:80"]}',
      ].join('\n') + '\n',
    );
    expect(dbPortPublished.check(d)).toEqual([]);
  });

  it('goes by the tier, also when x-berth sets it', () => {
    const d = one('  store: {image: "acme/store:1", ports: ["9000:9000"], x-berth: {tier: database}}\n  cache: {image: "redis:7.4", ports: ["6379:6379"], x-berth: {tier: app}}\n');
    expect(dbPortPublished.check(d).map((f) => f.object)).toEqual(['s/store']);
  });
});

describe('traefik-exposed-by-default', () => {
  it('passes when command or environment sets exposedByDefault to false', () => {
    const d = one(
      [
        '  cli: {image: "traefik:v3.6.6", command: ["--providers.docker=true", "--providers.docker.exposedByDefault=false"]}',
        '  env: {image: "traefik:v3.6.6", environment: {TRAEFIK_PROVIDERS_DOCKER: "true", TRAEFIK_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT: "false"}}',
        '  nodocker: {image: "traefik:v3.6.6", command: ["--providers.file.filename=/etc/traefik/dynamic.yml"]}',
        '  other: {image: "nginx:1.27"}',
      ].join('\n') + '\n',
    );
    expect(traefikExposedByDefault.check(d)).toEqual([]);
  });

  it('reports the Docker provider left exposing by default, on the command line or in the environment', () => {
    const d = one(
      [
        '  cli: {image: "traefik:v3.6.6", command: ["--providers.docker=true", "--entrypoints.web.address=:80"]}',
        '  env: {image: "docker.io/library/traefik:v3.6", environment: {TRAEFIK_PROVIDERS_DOCKER: "true"}}',
        '  explicit: {image: "traefik:v3.6.6", command: ["--providers.docker", "--providers.docker.exposedbydefault=true"]}',
      ].join('\n') + '\n',
    );
    const fs = traefikExposedByDefault.check(d);
    expect(fs.map((f) => [f.object, f.at.at(-1)])).toEqual([
      ['s/cli', 'command'],
      ['s/env', 'environment'],
      ['s/explicit', 'command'],
    ]);
    expect(fs[0]!.message).toContain('set --providers.docker.exposedbydefault=false');
  });

  it('reports a configuration berth cannot see (a mounted traefik.yml), saying so', () => {
    const d = one('  traefik: {image: "traefik:v3.6.6", command: ["--configFile=/etc/traefik/traefik.yml"], volumes: ["./traefik.yml:/etc/traefik/traefik.yml:ro"]}\n');
    const fs = traefikExposedByDefault.check(d);
    expect(fs).toHaveLength(1);
    expect(fs[0]!.message).toMatch(/mounted traefik.yml is not visible to berth/);
  });

  it('takes the last of repeated flags, as Traefik does', () => {
    expect(traefikExposure({ command: ['--providers.docker.exposedbydefault=false', '--providers.docker.exposedbydefault=true'], environment: {} })).toBe('on');
    expect(traefikExposure({ command: ['--providers.docker.exposedbydefault=true', '--providers.docker.exposedbydefault=false'], environment: {} })).toBe('off');
    expect(traefikExposure({ command: null, environment: {} })).toBe('not-visible');
  });
});
