import { describe, expect, it } from 'vitest';
import { controllerContext, normalizeImageRef } from '../../controllers/context.js';
import { planApps, planContainerPrune, planServiceTier } from '../../controllers/service.js';
import { LABEL } from '../../src/labels.js';
import type { AppliedRecord } from '../../src/model/applied.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { LiveState } from '../../src/model/live.js';
import type { ServiceConnectOp, ServiceCreateOp, ServiceRecreateOp, ServiceRemoveOp, ServiceStartOp } from '../../src/model/plan.js';
import {
  appliedFor,
  containerFor,
  desiredFrom,
  emptyLive,
  findService,
  liveContainer,
  liveFor,
  managedLabels,
  stackRepo,
  withInventory,
} from '../support/plan-fixtures.js';

function apps(desired: DesiredState, live: LiveState, applied: AppliedRecord | null = null) {
  const a = withInventory(applied, live);
  return planApps(desired, live, a, controllerContext(desired, live, a));
}

const WEB = (o: { image?: string; env?: string; ports?: string; networks?: string; extra?: string } = {}) => `
services:
  web:
    image: ${o.image ?? 'berth-test/web:v1'}
    environment:
${o.env ?? '      API_KEY: s3cret-before\n      LOG_LEVEL: info'}
${o.ports ?? ''}
    networks: ${o.networks ?? '[edge]'}
${o.extra ?? ''}
networks:
  edge: {}
  legacy: {}
`;

describe('service controller', () => {
  describe('missing container', () => {
    const desired = desiredFrom(stackRepo({ web: WEB() }));

    it('creates it and pulls when the image is not on the host', () => {
      const r = apps(desired, emptyLive());
      expect(r.errors).toEqual([]);
      expect(r.ops).toHaveLength(1);
      const op = r.ops[0] as ServiceCreateOp;
      expect(op).toMatchObject({
        kind: 'service.create',
        id: 'service:web/web',
        wave: 'apps',
        action: 'create',
        stack: 'web',
        object: 'web/web',
        reasons: ['missing'],
        after: [],
        pull: true,
      });
      expect(op.service).toEqual(findService(desired, 'web', 'web'));
    });

    it.each([
      ['berth-test/web:v1', ['berth-test/web:v1']],
      ['nginx', ['nginx:latest']],
      ['nginx:1.27', ['docker.io/library/nginx:1.27']],
      ['docker.io/library/nginx:1.27', ['nginx:1.27']],
      ['library/nginx', ['nginx:latest']],
      ['docker.io/acme/app', ['acme/app:latest']],
      ['localhost:5000/app', ['localhost:5000/app:latest']],
    ])('does not pull %s when the host has %j', (image, tags) => {
      const d = desiredFrom(stackRepo({ web: WEB({ image }) }));
      const r = apps(d, { ...emptyLive(), imageTags: tags });
      expect((r.ops[0] as ServiceCreateOp).pull).toBe(false);
    });

    it('normalizes image references the way Docker resolves them', () => {
      expect(normalizeImageRef('nginx')).toBe('nginx:latest');
      expect(normalizeImageRef('docker.io/library/nginx:1.27')).toBe('nginx:1.27');
      expect(normalizeImageRef('index.docker.io/library/nginx')).toBe('nginx:latest');
      expect(normalizeImageRef('ghcr.io/acme/app:v2')).toBe('ghcr.io/acme/app:v2');
      expect(normalizeImageRef('localhost:5000/app')).toBe('localhost:5000/app:latest');
      expect(normalizeImageRef('nginx@sha256:abc')).toBe('nginx@sha256:abc');
    });

    it('pulls with pull_policy: always even when the image is present', () => {
      const d = desiredFrom(stackRepo({ web: WEB({ extra: '    pull_policy: always' }) }));
      expect((apps(d, { ...emptyLive(), imageTags: ['berth-test/web:v1'] }).ops[0] as ServiceCreateOp).pull).toBe(true);
    });

    it('is an error with pull_policy: never and no image on the host', () => {
      const d = desiredFrom(stackRepo({ web: WEB({ extra: '    pull_policy: never' }) }));
      const r = apps(d, emptyLive());
      expect(r.errors).toEqual([
        {
          code: 'image-missing',
          stack: 'web',
          object: 'web',
          message: 'image berth-test/web:v1 is not on the host and pull_policy is never; pull or load it first',
        },
      ]);
      expect(apps(d, { ...emptyLive(), imageTags: ['berth-test/web:v1'] }).errors).toEqual([]);
    });
  });

  it('refuses a container name taken by an unmanaged container, naming its id and image', () => {
    const desired = desiredFrom(stackRepo({ web: WEB() }));
    const live = emptyLive();
    live.containers.push(liveContainer({ name: 'web-web-1', id: '0123456789abcdef0123', image: 'nginx:1.27', labels: { 'com.docker.compose.project': 'web' } }));
    const r = apps(desired, live);
    expect(r.ops).toEqual([]);
    expect(r.errors).toEqual([
      {
        code: 'container-unmanaged',
        stack: 'web',
        object: 'web',
        message: 'container web-web-1 (id 0123456789ab, image nginx:1.27) exists but is not managed by berth; remove or rename it, or give the service another container_name',
      },
    ]);
  });

  describe('recreate', () => {
    const before = desiredFrom(stackRepo({ web: WEB() }));
    const recreate = (after: DesiredState, applied: AppliedRecord | null = appliedFor(before), live = liveFor(before)) => {
      const r = apps(after, live, applied);
      expect(r.errors).toEqual([]);
      expect(r.ops).toHaveLength(1);
      return r.ops[0] as ServiceRecreateOp;
    };

    it('recreates on a new image, start-first, with the image as the reason', () => {
      const after = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v2' }) }));
      const op = recreate(after);
      const live = liveFor(before).containers[0]!;
      expect(op).toMatchObject({
        kind: 'service.recreate',
        id: 'service:web/web',
        action: 'recreate',
        object: 'web/web',
        strategy: 'start-first',
        pull: true,
        old: { id: live.id, name: 'web-web-1' },
        reasons: ['image berth-test/web:v1 → berth-test/web:v2'],
      });
    });

    it('names changed, added and removed environment keys, never their values', () => {
      const after = desiredFrom(
        stackRepo({ web: WEB({ env: '      API_KEY: s3cret-after\n      DEBUG: "1"' }) }),
      );
      const op = recreate(after);
      expect(op.reasons).toEqual(['env API_KEY changed (value hidden)', 'env DEBUG added', 'env LOG_LEVEL removed']);
      const text = JSON.stringify({ ...op, service: undefined }) + JSON.stringify(op);
      for (const secret of ['s3cret-before', 's3cret-after']) expect(text).not.toContain(secret);
      // apply still gets the real value
      expect(op.service.environment.API_KEY).toBe('s3cret-after');
    });

    it('sees no env change when the value is the same', () => {
      const after = desiredFrom(stackRepo({ web: WEB({ extra: '    restart: always' }) }));
      expect(recreate(after).reasons).toEqual(['restart no → always']);
    });

    it('lists ports, networks, labels, mounts, healthcheck, resources, user and other fields by name', () => {
      const base = `
services:
  web:
    image: berth-test/web:v1
    ports: ["8080:80"]
    networks: [edge, legacy]
    labels: {a: "1", b: "2"}
    volumes: [data:/data, logs:/logs]
    healthcheck: {test: ["CMD", "true"], interval: 5s}
    user: "1000"
    deploy: {resources: {limits: {memory: 64M}}}
networks: {edge: {}, legacy: {}}
volumes: {data: {}, logs: {}}
`;
      const changed = `
services:
  web:
    image: berth-test/web:v1
    ports: ["8081:80"]
    networks: [edge, front]
    labels: {a: "1", b: "3", c: "4"}
    volumes: [data:/data:ro, cache:/cache]
    healthcheck: {test: ["CMD", "true"], interval: 10s, retries: 2}
    user: "1001"
    deploy: {resources: {limits: {memory: 128M, cpus: "0.5"}}}
    read_only: true
    cap_add: [NET_ADMIN]
    command: ["serve", "--password", "hunter2"]
    stop_grace_period: 30s
networks: {edge: {}, legacy: {}, front: {}}
volumes: {data: {}, logs: {}, cache: {}}
`;
      const b = desiredFrom(stackRepo({ web: base }));
      const a = desiredFrom(stackRepo({ web: changed }));
      const op = recreate(a, appliedFor(b), liveFor(b));
      expect(op.reasons).toEqual([
        'command changed',
        'ports 8080:80/tcp → 8081:80/tcp',
        'mounts +/cache -/logs ~/data',
        'networks +web_front -web_legacy',
        'healthcheck changed (interval, retries)',
        'labels +c ~b',
        'user changed',
        'resources memory 64MiB → 128MiB',
        'resources cpus unset → 0.5',
        'cap_add changed',
        'read_only false → true',
        'stop_grace_period unset → 30s',
        'publishes host ports: recreate instead of start-first',
      ]);
      expect(op.strategy).toBe('recreate');
      expect(JSON.stringify(op.reasons)).not.toContain('hunter2');
    });

    it('falls back to start-first → recreate when the service publishes host ports (PRODUCT.md §8)', () => {
      const after = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v2', ports: '    ports: ["8080:80"]' }) }));
      const before2 = desiredFrom(stackRepo({ web: WEB({ ports: '    ports: ["8080:80"]' }) }));
      const op = recreate(after, appliedFor(before2), liveFor(before2));
      expect(op.strategy).toBe('recreate');
      expect(op.reasons).toEqual(['image berth-test/web:v1 → berth-test/web:v2', 'publishes host ports: recreate instead of start-first']);
    });

    it('keeps start-first for ports without a host port, and honours an explicit recreate silently', () => {
      const noHost = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v2', ports: '    ports: ["80"]' }) }));
      expect(recreate(noHost, null).strategy).toBe('start-first');
      const explicit = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v2', extra: '    x-berth: {rollout: recreate}' }) }));
      const op = recreate(explicit, null);
      expect(op.strategy).toBe('recreate');
      expect(op.reasons).toEqual(['image berth-test/web:v1 → berth-test/web:v2']);
    });

    it('falls back to recreate for a fixed IP address', () => {
      const fixed = `
services:
  web:
    image: berth-test/web:v2
    networks:
      edge: {ipv4_address: 10.5.0.10}
networks:
  edge:
    ipam: {config: [{subnet: 10.5.0.0/24}]}
`;
      const op = recreate(desiredFrom(stackRepo({ web: fixed })), null);
      expect(op.strategy).toBe('recreate');
      expect(op.reasons).toContain('fixed IP address: recreate instead of start-first');
    });

    it('without a last-applied record, uses what the container list shows', () => {
      const after = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v2', networks: '[edge, legacy]' }) }));
      expect(recreate(after, null).reasons).toEqual(['image berth-test/web:v1 → berth-test/web:v2', 'networks +web_legacy']);
    });

    it('without a record and nothing visible, names the two config hashes', () => {
      const after = desiredFrom(stackRepo({ web: WEB({ env: '      API_KEY: other\n      LOG_LEVEL: info' }) }));
      const oldHash = findService(before, 'web', 'web').configHash;
      const newHash = findService(after, 'web', 'web').configHash;
      expect(recreate(after, null).reasons).toEqual([`configuration changed (v1:${oldHash.slice(3, 11)}… → v1:${newHash.slice(3, 11)}…)`]);
    });

    it('ignores a record whose spec did not produce the live container (recreated by hand)', () => {
      const after = desiredFrom(stackRepo({ web: WEB({ env: '      API_KEY: other\n      LOG_LEVEL: info' }) }));
      const live = liveFor(before);
      live.containers[0]!.labels[LABEL.configHash] = 'v1:0000000000000000000000000000000000000000000000000000000000000000';
      expect(recreate(after, appliedFor(before), live).reasons).toEqual([
        `configuration changed (v1:00000000… → v1:${findService(after, 'web', 'web').configHash.slice(3, 11)}…)`,
      ]);
    });

    it('recreates a dead container even with the same config', () => {
      const live = liveFor(before);
      live.containers[0] = { ...live.containers[0]!, state: 'dead', status: 'Dead' };
      const op = recreate(before, appliedFor(before), live);
      expect(op.reasons).toEqual(['dead (Dead)']);
    });

    it('refuses when an unmanaged container holds the rollout names', () => {
      const after = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v2' }) }));
      const live = liveFor(before);
      live.containers.push(liveContainer({ name: 'web-web-1_berth_tmp', id: '999999999999aaaa', image: 'x:1' }));
      const r = apps(after, live, appliedFor(before));
      expect(r.errors.map((e) => e.message)).toEqual([
        'container web-web-1_berth_tmp (id 999999999999, image x:1) is not managed by berth and takes the name a rollout of web-web-1 needs; remove or rename it',
      ]);
    });
  });

  describe('same config', () => {
    const desired = desiredFrom(stackRepo({ web: WEB() }));

    it('plans nothing for a running container on the right networks', () => {
      expect(apps(desired, liveFor(desired), appliedFor(desired))).toEqual({ ops: [], errors: [], warnings: [] });
    });

    it('starts a stopped container, with Docker status as the reason', () => {
      const live = liveFor(desired);
      live.containers[0] = { ...live.containers[0]!, state: 'exited', status: 'Exited (1) 2 minutes ago' };
      const r = apps(desired, live);
      expect(r.ops).toEqual([
        expect.objectContaining({
          kind: 'service.start',
          id: 'service:web/web',
          action: 'start',
          reasons: ['stopped (Exited (1) 2 minutes ago)'],
          containerId: live.containers[0]!.id,
        }),
      ]);
      const created = liveFor(desired);
      created.containers[0] = { ...created.containers[0]!, state: 'created', status: 'Created' };
      expect(apps(desired, created).ops.map((o) => o.reasons)).toEqual([['created but never started (Created)']]);
    });

    it('recreates a never-started container that lacks a network (a create interrupted between its create and connect calls)', () => {
      const two = desiredFrom(stackRepo({ web: WEB({ networks: '[edge, legacy]' }) }));
      const live = liveFor(two);
      live.containers[0] = { ...live.containers[0]!, state: 'created', status: 'Created', networks: ['web_edge'] };
      const r = apps(two, live);
      expect(r.ops).toEqual([
        expect.objectContaining({
          kind: 'service.recreate',
          action: 'recreate',
          reasons: ['created but never started, networks +web_legacy (an interrupted create)'],
          old: { id: live.containers[0]!.id, name: 'web-web-1' },
        }),
      ]);
      // Stopped after it ran: started as before (its networks are fixed once it runs).
      live.containers[0] = { ...live.containers[0]!, state: 'exited', status: 'Exited (0) 1 second ago' };
      expect(apps(two, live).ops.map((o) => o.kind)).toEqual(['service.start']);
    });

    it('reconnects networks without recreating', () => {
      const live = liveFor(desired);
      live.containers[0] = { ...live.containers[0]!, networks: ['web_legacy'] };
      const r = apps(desired, live);
      expect(r.ops).toHaveLength(1);
      const op = r.ops[0] as ServiceConnectOp;
      expect(op).toMatchObject({ kind: 'service.connect', action: 'update', reasons: ['networks +web_edge -web_legacy'], disconnect: ['web_legacy'] });
      expect(op.connect.map((n) => n.name)).toEqual(['web_edge']);
    });

    it('leaves a paused or restarting container alone, with a warning', () => {
      const live = liveFor(desired);
      live.containers[0] = { ...live.containers[0]!, state: 'restarting', status: 'Restarting (1) 3 seconds ago' };
      const r = apps(desired, live);
      expect(r.ops).toEqual([]);
      expect(r.warnings).toEqual(['web/web: container web-web-1 is restarting (Restarting (1) 3 seconds ago); berth leaves it as it is']);
    });

    describe('one-shot services', () => {
      const jobs = desiredFrom(
        stackRepo({
          app: `
services:
  migrate:
    image: berth-test/worker:1
  seed:
    image: berth-test/worker:1
  web:
    image: berth-test/web:v1
    depends_on:
      migrate: {condition: service_completed_successfully}
`,
        }),
      );
      const exited = (name: string, status: string) => {
        const live = liveFor(jobs);
        live.containers = live.containers.map((c) => (c.name === name ? { ...c, state: 'exited' as const, status } : c));
        return apps(jobs, live).ops.map((o) => o.id);
      };

      it('does not restart a one-shot that exited 0 when a dependent waits for its completion', () => {
        expect(exited('app-migrate-1', 'Exited (0) 1 hour ago')).toEqual([]);
      });
      it('restarts it when it failed', () => {
        expect(exited('app-migrate-1', 'Exited (1) 1 hour ago')).toEqual(['service:app/migrate']);
      });
      it('restarts a service nobody waits on, even after exit 0', () => {
        expect(exited('app-seed-1', 'Exited (0) 1 hour ago')).toEqual(['service:app/seed']);
      });
    });
  });

  describe('leftovers of an interrupted rollout', () => {
    const desired = desiredFrom(stackRepo({ web: WEB() }));
    const spec = findService(desired, 'web', 'web');

    it('cleans up a managed _berth_tmp container', () => {
      const live = liveFor(desired);
      live.containers.push(containerFor(spec, { name: 'web-web-1_berth_tmp', state: 'created' }));
      const r = apps(desired, live);
      expect(r.ops).toEqual([
        {
          kind: 'container.cleanup',
          id: 'container:web-web-1_berth_tmp',
          wave: 'apps',
          action: 'remove',
          stack: 'web',
          object: 'web-web-1_berth_tmp',
          reasons: ['leftover of an interrupted rollout'],
          after: [],
          containerId: live.containers[1]!.id,
          containerName: 'web-web-1_berth_tmp',
        },
      ]);
    });

    it('ignores an unmanaged container with a leftover name when no rollout needs it', () => {
      const live = liveFor(desired);
      live.containers.push(liveContainer({ name: 'web-web-1_berth_tmp' }));
      expect(apps(desired, live)).toEqual({ ops: [], errors: [], warnings: [] });
    });

    it('cleans up _berth_old when the canonical container exists', () => {
      const live = liveFor(desired);
      live.containers.push(containerFor(spec, { name: 'web-web-1_berth_old', state: 'exited', status: 'Exited (0) 1 minute ago' }));
      expect(apps(desired, live).ops.map((o) => [o.kind, o.object, o.reasons])).toEqual([
        ['container.cleanup', 'web-web-1_berth_old', ['leftover of an interrupted rollout; web-web-1 exists']],
      ]);
    });

    // Regression (found by test/faults/db-kill-points): berth killed after creating/starting the
    // new container of a recreate pruned the old one on restart and kept a never-healthy new one.
    it('keeps _berth_old and replaces an unproven canonical container (created, stopped, starting or unhealthy)', () => {
      const older = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v0' }) }));
      for (const canonical of [{ state: 'created' as const }, { state: 'exited' as const, status: 'Exited (1) 1 second ago' }, { health: 'starting' as const }, { health: 'unhealthy' as const }]) {
        const live = emptyLive();
        live.containers.push(containerFor(spec, { name: 'web-web-1', ...canonical }));
        live.containers.push(containerFor(findService(older, 'web', 'web'), { name: 'web-web-1_berth_old', state: 'exited', status: 'Exited (0) 1 minute ago' }));
        const ops = apps(desired, live, appliedFor(older)).ops;
        expect(ops.map((o) => [o.kind, o.object])).toEqual([
          ['container.cleanup', 'web-web-1'],
          ['service.recreate', 'web/web'],
        ]);
        expect((ops[1] as ServiceRecreateOp).old).toEqual({ id: live.containers[1]!.id, name: 'web-web-1_berth_old' });
      }
    });

    it('lets _berth_old stand in for a missing container: start it when its config is current', () => {
      const live = emptyLive();
      live.containers.push(containerFor(spec, { name: 'web-web-1_berth_old', state: 'exited', status: 'Exited (0) 1 minute ago' }));
      const r = apps(desired, live);
      expect(r.ops).toHaveLength(1);
      const op = r.ops[0] as ServiceStartOp;
      expect(op.kind).toBe('service.start');
      expect(op.containerId).toBe(live.containers[0]!.id);
      expect(op.reasons).toEqual(['recovering web-web-1_berth_old after an interrupted rollout', 'stopped (Exited (0) 1 minute ago)']);
    });

    it('recreates from _berth_old when its config is not current, or to restore the canonical name', () => {
      const older = desiredFrom(stackRepo({ web: WEB({ image: 'berth-test/web:v0' }) }));
      const live = emptyLive();
      live.containers.push(containerFor(findService(older, 'web', 'web'), { name: 'web-web-1_berth_old', state: 'exited', status: 'Exited (0) 1 minute ago' }));
      const op = apps(desired, live, appliedFor(older)).ops[0] as ServiceRecreateOp;
      expect(op.kind).toBe('service.recreate');
      expect(op.old).toEqual({ id: live.containers[0]!.id, name: 'web-web-1_berth_old' });
      expect(op.reasons).toEqual(['recovering web-web-1_berth_old after an interrupted rollout', 'image berth-test/web:v0 → berth-test/web:v1']);

      const running = emptyLive();
      running.containers.push(containerFor(spec, { name: 'web-web-1_berth_old' }));
      expect(apps(desired, running).ops.map((o) => [o.kind, o.reasons])).toEqual([
        ['service.recreate', ['running as web-web-1_berth_old after an interrupted rollout: recreate as web-web-1']],
      ]);
    });

    it('cleans up the leftovers of a service that is gone', () => {
      const live = liveFor(desired);
      live.containers.push(liveContainer({ name: 'old-api-1_berth_tmp', labels: managedLabels('old', { [LABEL.service]: 'api' }) }));
      expect(apps(desired, live).ops.map((o) => [o.kind, o.id])).toEqual([['container.cleanup', 'container:old-api-1_berth_tmp']]);
    });
  });

  describe('prune', () => {
    const desired = desiredFrom({
      ...stackRepo({
        web: `
services:
  web:
    image: berth-test/web:v1
  debug:
    image: busybox:1
    profiles: [debug]
`,
      }),
    });
    const managed = (stack: string, service: string, p: Parameters<typeof liveContainer>[0]) =>
      liveContainer({ ...p, labels: managedLabels(stack, { [LABEL.service]: service, [LABEL.configHash]: 'v1:abc' }) });

    it('removes managed containers whose stack or service left the repository, or whose profile is inactive', () => {
      const live = liveFor(desired);
      live.containers.push(
        managed('old', 'api', { name: 'old-api-1', image: 'berth-test/web:v1' }),
        managed('web', 'worker', { name: 'web-worker-1', image: 'berth-test/worker:1' }),
        managed('web', 'debug', { name: 'web-debug-1', image: 'busybox:1' }),
        liveContainer({ name: 'portainer', image: 'portainer/portainer-ce' }),
      );
      const r = apps(desired, live);
      expect(r.errors).toEqual([]);
      expect(r.ops.map((o) => [o.kind, o.id, o.wave, o.object, o.reasons])).toEqual([
        ['service.remove', 'container:old-api-1', 'apps', 'old/api', ['stack "old" is no longer in the repository']],
        ['service.remove', 'container:web-debug-1', 'apps', 'web/debug', ['service "debug" is not active: none of its profiles is in COMPOSE_PROFILES']],
        ['service.remove', 'container:web-worker-1', 'apps', 'web/worker', ['service "worker" is no longer in stacks/web/compose.yaml']],
      ]);
      expect(r.ops[0] as ServiceRemoveOp).toMatchObject({ service: 'api', tier: 'app', containerName: 'old-api-1', containerId: live.containers[1]!.id });
    });

    it('keeps them, with a warning, when prune is off for their stack', () => {
      const d = structuredClone(desired);
      d.settings.stacks.old = { prune: false };
      const live = liveFor(d);
      live.containers.push(managed('old', 'api', { name: 'old-api-1' }));
      const r = apps(d, live);
      expect(r.ops).toEqual([]);
      expect(r.warnings).toEqual(['container old-api-1 (old/api): stack "old" is no longer in the repository; prune is off for stack "old", left in place']);
    });

    it('puts a removed database in the database tier (from the last applied spec, else the image)', () => {
      const live = liveFor(desired);
      live.containers.push(managed('old', 'pg', { name: 'old-pg-1', image: 'postgres:18' }));
      const ctx = controllerContext(desired, live, withInventory(null, live));
      expect(planContainerPrune('app', ctx).ops).toEqual([]);
      expect(planContainerPrune('database', ctx).ops.map((o) => [o.id, o.wave, (o as ServiceRemoveOp).tier])).toEqual([
        ['container:old-pg-1', 'databases', 'database'],
      ]);
      const applied = appliedFor(desiredFrom(stackRepo({ old: 'services:\n  pg:\n    image: acme/store:1\n    x-berth: {tier: database}\n' })));
      live.containers.push(managed('old', 'pg2', { name: 'old-pg2-1', image: 'acme/store:1' }));
      live.containers.find((c) => c.name === 'old-pg2-1')!.labels[LABEL.service] = 'pg';
      const withApplied = controllerContext(desired, live, withInventory(applied, live));
      expect(planServiceTier('database', withApplied).ops.map((o) => o.id)).toEqual(['container:old-pg-1', 'container:old-pg2-1']);
    });

    it('removes the old container of a service whose container_name changed, before creating the new one', () => {
      const renamed = desiredFrom(stackRepo({ web: 'services:\n  web:\n    image: berth-test/web:v1\n    container_name: shop-web\n' }));
      const live = liveFor(desired);
      const r = apps(renamed, live);
      expect(r.ops.map((o) => [o.kind, o.id, o.reasons])).toEqual([
        ['service.create', 'service:web/web', ['missing']],
        ['service.remove', 'container:web-web-1', ['container name changed to shop-web']],
      ]);
    });
  });
});
