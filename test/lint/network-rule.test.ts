import { describe, expect, it } from 'vitest';
import { backingNetworkNotInternal, routedByTraefik } from '../../src/lint/rules/networks.js';
import { desiredFrom, stackRepo } from '../support/plan-fixtures.js';

const rule = (files: Record<string, string>) => backingNetworkNotInternal.check(desiredFrom(files));

describe('backing-network-not-internal', () => {
  it('reports a network only databases and multi-homed apps use', () => {
    const fs = rule(
      stackRepo({
        s: `services:
  pg: {image: "postgres:18.1", networks: [back]}
  api: {image: "acme/api:1", networks: [front, back]}
networks:
  front: {}
  back: {}
`,
      }),
    );
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ rule: 'backing-network-not-internal', stack: 's', object: 's_back', at: ['networks', 'back'] });
    expect(fs[0]!.service).toBeUndefined();
    expect(fs[0]!.message).toBe('network back is used only by backing services (databases: pg; apps with another network: api) but is not internal: true');
    expect(fs[0]!.silencedBy).toEqual([
      { stack: 's', service: 'api' },
      { stack: 's', service: 'pg' },
    ]);
  });

  it('follows networks shared across stacks by name, and reports only the declaring stack', () => {
    const fs = rule(
      stackRepo({
        infra: 'services:\n  edge: {image: "acme/edge:1", networks: [back]}\nnetworks:\n  back: {name: backend, internal: false}\n',
        data: 'services:\n  pg: {image: "postgres:18.1", networks: [back]}\nnetworks:\n  back: {name: backend, external: true}\n',
      }),
    );
    // edge is an app whose only network is backend: it may need its way out there.
    expect(fs).toEqual([]);
    const fs2 = rule(
      stackRepo({
        infra: 'services:\n  edge: {image: "acme/edge:1", networks: [back, front]}\nnetworks:\n  back: {name: backend}\n  front: {}\n',
        data: 'services:\n  pg: {image: "postgres:18.1", networks: [back]}\nnetworks:\n  back: {name: backend, external: true}\n',
      }),
    );
    expect(fs2.map((f) => [f.stack, f.object, f.message])).toEqual([
      ['infra', 'backend', 'network back is used only by backing services (databases: data/pg; apps with another network: edge) but is not internal: true'],
    ]);
  });

  it('passes internal networks, networks without a database, and networks with something facing outside', () => {
    const fs = rule(
      stackRepo({
        s: `services:
  pg: {image: "postgres:18.1", networks: [internal, published, routed, proxy]}
  api: {image: "acme/api:1", networks: [apps, internal]}
  pub: {image: "acme/pub:1", ports: ["8080:80"], networks: [published, apps]}
  routed: {image: "acme/web:1", labels: {traefik.enable: "true"}, networks: [routed, apps]}
  traefik: {image: "traefik:v3.6.6", command: ["--providers.docker.exposedbydefault=false"], networks: [proxy, apps]}
networks:
  internal: {internal: true}
  apps: {}
  published: {}
  routed: {}
  proxy: {}
`,
      }),
    );
    expect(fs).toEqual([]);
  });

  it('reports the implicit default network of a databases-only stack', () => {
    const fs = rule(stackRepo({ s: 'services:\n  pg: {image: "postgres:18.1"}\n  redis: {image: "redis:7.4"}\n' }));
    expect(fs.map((f) => [f.object, f.at])).toEqual([['s_default', ['networks', 'default']]]);
  });

  it('reads Traefik routing from labels the way Traefik does', () => {
    expect(routedByTraefik({ 'traefik.enable': 'true' })).toBe(true);
    expect(routedByTraefik({ 'traefik.enable': 'false', 'traefik.http.routers.x.rule': 'Host(`x`)' })).toBe(false);
    expect(routedByTraefik({ 'traefik.http.routers.x.rule': 'Host(`x`)' })).toBe(true);
    expect(routedByTraefik({ 'com.example': 'x' })).toBe(false);
  });
});
