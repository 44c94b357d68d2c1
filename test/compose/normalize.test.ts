import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import type { ServiceSpec } from '../../src/model/desired.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const load = (files: Record<string, string>, env: Record<string, string> = {}) => loadDesiredState(tmpRepo(files), { env, validators });

function service(files: Record<string, string>, stack: string, name: string, env: Record<string, string> = {}): ServiceSpec {
  const r = load(files, env);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  expect(errors).toEqual([]);
  const svc = r.state!.stacks.find((s) => s.name === stack)!.services.find((s) => s.name === name);
  expect(svc).toBeDefined();
  return svc!;
}

const SHORT = `
services:
  web:
    image: app:v1
    command: node server.js --port 80
    environment:
      - A=1
      - B=two
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp"]
    volumes: ["data:/data:ro", "/srv/conf:/etc/app"]
    labels: ["traefik.enable=true", "x=y"]
    healthcheck: {test: "wget -q -O- localhost/health", interval: 90s, retries: 3}
    networks: [backend, edge]
    cap_drop: [ALL]
    extra_hosts: ["host.docker.internal:host-gateway"]
    mem_limit: 1g
    ulimits: {nofile: 65536}
volumes: {data: {}}
networks: {backend: {internal: true}, edge: {name: edge}}
`;

const LONG = `
networks:
  edge: {name: edge}
  backend: {internal: true}
volumes:
  data:
services:
  web:
    networks:
      edge: {}
      backend:
    ulimits: {nofile: {soft: 65536, hard: 65536}}
    deploy: {resources: {limits: {memory: 1024M}}}
    extra_hosts: {host.docker.internal: host-gateway}
    cap_drop: [all]
    healthcheck:
      retries: 3
      interval: 1m30s
      test: ["CMD-SHELL", "wget -q -O- localhost/health"]
    labels: {x: y, traefik.enable: "true"}
    volumes:
      - {type: bind, source: /srv/conf, target: /etc/app, bind: {create_host_path: true}}
      - {type: volume, source: data, target: /data, read_only: true}
    ports:
      - {target: 9001, published: "9001", protocol: udp}
      - {target: 80, published: 8080, host_ip: 127.0.0.1}
      - {target: 9000, published: 9000, protocol: udp}
    environment: {B: two, A: "1"}
    command: ["node", "server.js", "--port", "80"]
    image: app:v1
`;

describe('normalization and the config hash', () => {
  it('gives short and long syntax of the same service the same spec and hash', () => {
    const a = service({ 'stacks/shop/compose.yaml': SHORT }, 'shop', 'web');
    const b = service({ 'stacks/shop/compose.yaml': LONG }, 'shop', 'web');
    expect(b).toEqual(a);
    expect(b.configHash).toBe(a.configHash);
  });

  it('is stable across key order and whitespace', () => {
    const a = service({ 'stacks/s/compose.yaml': 'services:\n  w:\n    image: a\n    environment: {X: "1", Y: "2"}\n' }, 's', 'w');
    const b = service({ 'stacks/s/compose.yaml': 'services:\n    w:\n        environment:\n            Y:   "2"\n            X: "1"\n        image:    a\n' }, 's', 'w');
    expect(a.configHash).toBe(b.configHash);
    expect(a.configHash).toMatch(/^v1:[0-9a-f]{64}$/);
  });

  it('changes when one environment value changes', () => {
    const a = service({ 'stacks/s/compose.yaml': 'services:\n  w:\n    image: a\n    environment: {X: "1"}\n' }, 's', 'w');
    const b = service({ 'stacks/s/compose.yaml': 'services:\n  w:\n    image: a\n    environment: {X: "2"}\n' }, 's', 'w');
    expect(a.configHash).not.toBe(b.configHash);
  });

  it('ignores depends_on and x-berth rollout options, like Compose ignores start order', () => {
    const base = 'services:\n  db:\n    image: b\n  w:\n    image: a\n';
    const a = service({ 'stacks/s/compose.yaml': base }, 's', 'w');
    const b = service({ 'stacks/s/compose.yaml': base + '    depends_on: [db]\n    x-berth: {minReadySeconds: 5, lint: {ignore: [image-latest]}}\n' }, 's', 'w');
    expect(a.configHash).toBe(b.configHash);
  });

  it('names objects the Compose way', () => {
    const r = load({
      'stacks/shop/compose.yaml': `
services:
  web: {image: a, volumes: ["data:/d", "shared:/s"]}
  api: {image: a, container_name: shop-api, networks: [edge]}
networks: {edge: {name: public-edge}}
volumes: {data: {}, shared: {external: true, name: pgdata}}
`,
    });
    const stack = r.state!.stacks[0]!;
    expect(stack.networks.map((n) => [n.key, n.name, n.external])).toEqual([
      ['default', 'shop_default', false],
      ['edge', 'public-edge', false],
    ]);
    expect(stack.volumes.map((v) => [v.key, v.name, v.external])).toEqual([
      ['data', 'shop_data', false],
      ['shared', 'pgdata', true],
    ]);
    expect(stack.services.map((s) => [s.name, s.containerName])).toEqual([
      ['api', 'shop-api'],
      ['web', 'shop-web-1'],
    ]);
    expect(stack.services.find((s) => s.name === 'web')!.networks.map((n) => n.name)).toEqual(['shop_default']);
  });

  it('takes env_file first and lets environment override it; the process env wins over .env', () => {
    const svc = service(
      {
        'stacks/s/.env': 'TAG=from-dotenv\nOTHER=dotenv\n',
        'stacks/s/app.env': 'FROM_FILE=1\nOVERRIDDEN=file\n',
        'stacks/s/compose.yaml': 'services:\n  w:\n    image: app:${TAG}\n    env_file: [app.env]\n    environment: {OVERRIDDEN: env, O: "${OTHER}"}\n',
      },
      's',
      'w',
      { TAG: 'from-process' },
    );
    expect(svc.image).toBe('app:from-process');
    expect(svc.environment).toEqual({ FROM_FILE: '1', O: 'dotenv', OVERRIDDEN: 'env' });
  });

  it('casts interpolated booleans and numbers', () => {
    const svc = service({ 'stacks/s/compose.yaml': 'services:\n  w:\n    image: a\n    read_only: ${RO:-true}\n    healthcheck: {test: x, retries: "${R:-5}"}\n' }, 's', 'w');
    expect(svc.readOnly).toBe(true);
    expect(svc.healthcheck).toMatchObject({ retries: 5 });
  });

  it('resolves YAML anchors and merge keys', () => {
    const svc = service(
      {
        'stacks/s/compose.yaml': `
x-common: &common
  restart: unless-stopped
  logging: {driver: json-file, options: {max-size: 10m}}
services:
  w:
    <<: *common
    image: a
`,
      },
      's',
      'w',
    );
    expect(svc.restart).toBe('unless-stopped');
    expect(svc.logging).toEqual({ driver: 'json-file', options: { 'max-size': '10m' } });
  });

  it('infers the tier', () => {
    const r = load({
      'stacks/s/compose.yaml': `
services:
  pg: {image: "docker.io/library/postgres:18.1"}
  cache: {image: bitnami/redis}
  ui: {image: mongo-express}
  store: {image: custom/store, volumes: ["d:/d"], healthcheck: {test: x}}
  app: {image: a, depends_on: {store: {condition: service_healthy}}}
  forced: {image: postgres, x-berth: {tier: app}}
volumes: {d: {}}
`,
    });
    const tiers = Object.fromEntries(r.state!.stacks[0]!.services.map((s) => [s.name, [s.berth.tier, s.berth.rollout]]));
    expect(tiers).toEqual({
      pg: ['database', 'recreate'],
      cache: ['database', 'recreate'],
      ui: ['app', 'start-first'],
      store: ['database', 'recreate'],
      app: ['app', 'start-first'],
      forced: ['app', 'start-first'],
    });
  });
});
