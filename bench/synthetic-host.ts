// A synthetic host for the in-process benches (bench/planner.ts, bench/pass.ts):
// a desired state of N services in stacks of 20, the live state and applied
// record that match it, and (unless `changes: false`) a few changes.
import { createHash } from 'node:crypto';
import { configHash } from '../src/compose/hash.js';
import { LABEL } from '../src/labels.js';
import type { AppliedRecord } from '../src/model/applied.js';
import { DEFAULT_SETTINGS, type DesiredStack, type DesiredState, type NetworkSpec, type ServiceSpec } from '../src/model/desired.js';
import type { LiveContainer, LiveState } from '../src/model/live.js';
import { serviceSpec } from '../test/support/service-spec.js';

const PER_STACK = 20;
export const SALT = 'bench-salt';

function network(stack: string, key: string): NetworkSpec {
  return { stack, key, name: `${stack}_${key}`, external: false, driver: 'bridge', internal: key === 'backend', attachable: false, enableIpv6: false, ipam: null, driverOpts: {}, labels: {} };
}

function service(stack: string, i: number): ServiceSpec {
  const name = `svc${String(i).padStart(3, '0')}`;
  const tier = i % 10 === 0 ? 'database' : 'app';
  // Compose's defaults for the rest (test/support/service-spec.ts), overridden where a production service differs.
  const { configHash: _unhashed, ...draft } = serviceSpec({
    stack,
    name,
    containerName: `${stack}-${name}-1`,
    image: tier === 'database' ? 'postgres:18' : `registry.example.com/${stack}/${name}:v1`,
    command: ['serve', '--port', '8080'],
    environment: { APP_ENV: 'production', DATABASE_URL: `postgres://app:secret@db/${name}`, LOG_LEVEL: 'info', WORKERS: '4' },
    ports: i % 7 === 0 ? [{ target: 8080, published: 10000 + i, hostIp: '', protocol: 'tcp' }] : [],
    mounts: tier === 'database' ? [{ type: 'volume', source: `${stack}_data${i}`, target: '/var/lib/postgresql/data', readOnly: false, noCopy: false }] : [],
    networks: [
      { key: 'backend', name: `${stack}_backend`, aliases: [], ipv4Address: null, ipv6Address: null, priority: 0 },
      { key: 'default', name: `${stack}_default`, aliases: [], ipv4Address: null, ipv6Address: null, priority: 0 },
    ],
    // A chain inside each stack: svcN waits for svcN-1 to be healthy.
    dependsOn: i % PER_STACK === 0 ? [] : [{ service: `svc${String(i - 1).padStart(3, '0')}`, condition: 'service_healthy', required: true, restart: false }],
    healthcheck: { disable: false, test: ['CMD', 'true'], intervalNs: 5e9, timeoutNs: 3e9, startPeriodNs: null, startIntervalNs: null, retries: 3 },
    restart: 'unless-stopped',
    labels: { 'traefik.enable': 'true', [`traefik.http.routers.${name}.rule`]: `Host(\`${name}.example.com\`)` },
    capDrop: ['ALL'],
    securityOpt: ['no-new-privileges:true'],
    resources: { ...serviceSpec().resources, memoryBytes: 256 * 1024 * 1024, nanoCpus: 5e8 },
    berth: { tier, tierInferred: true, rollout: tier === 'database' ? 'recreate' : 'start-first', minReadySeconds: 0, selfHeal: null, backup: null, lintIgnore: [] },
  });
  return { ...draft, configHash: configHash(draft) };
}

export function generate(n: number, opts: { changes?: boolean } = {}): { desired: DesiredState; live: LiveState; applied: AppliedRecord } {
  const stacks: DesiredStack[] = [];
  for (let s = 0; s * PER_STACK < n; s++) {
    const name = `stack${String(s).padStart(3, '0')}`;
    const services = Array.from({ length: Math.min(PER_STACK, n - s * PER_STACK) }, (_, i) => service(name, s * PER_STACK + i));
    stacks.push({
      name,
      file: `stacks/${name}/compose.yaml`,
      networks: [network(name, 'backend'), network(name, 'default')],
      volumes: services.filter((x) => x.mounts.length > 0).map((x) => ({ stack: name, key: `data${x.name}`, name: `${name}_data${x.name.slice(3)}`, external: false, driver: 'local', driverOpts: {}, labels: {} })),
      services,
      inactive: [],
    });
  }
  const desired: DesiredState = { root: '/bench', settings: structuredClone(DEFAULT_SETTINGS), stacks };

  const hashEnv = (v: string) => `sha256:${createHash('sha256').update(SALT + v).digest('hex')}`;
  const applied: AppliedRecord = {
    revision: 'bench0',
    appliedAt: '2025-01-01T00:00:00.000Z',
    source: '/bench',
    salt: SALT,
    stacks: stacks.map((st) => ({
      name: st.name,
      networks: st.networks,
      volumes: st.volumes,
      services: st.services.map((x) => ({ ...x, environment: Object.fromEntries(Object.entries(x.environment).map(([k, v]) => [k, hashEnv(v ?? '')])) })),
    })),
  };

  const live: LiveState = { containers: [], networks: [], volumes: [], imageTags: [] };
  let k = 0;
  for (const st of stacks) {
    for (const net of st.networks) {
      live.networks.push({ id: `net${k++}`, name: net.name, driver: 'bridge', internal: net.internal, attachable: false, enableIpv6: false, ipam: { driver: 'default', config: [{ subnet: '172.20.0.0/16' }] }, labels: { [LABEL.managed]: 'true', [LABEL.stack]: st.name } });
    }
    for (const v of st.volumes) live.volumes.push({ name: v.name, driver: 'local', labels: { [LABEL.managed]: 'true', [LABEL.stack]: st.name } });
    for (const x of st.services) {
      const c: LiveContainer = {
        id: createHash('sha256').update(x.containerName).digest('hex'),
        name: x.containerName,
        image: x.image,
        imageId: 'sha256:0',
        state: 'running',
        status: 'Up 3 hours (healthy)',
        health: 'healthy',
        labels: { ...x.labels, [LABEL.managed]: 'true', [LABEL.stack]: st.name, [LABEL.service]: x.name, [LABEL.configHash]: x.configHash },
        networks: x.networks.map((nn) => nn.name),
        created: 1_700_000_000,
      };
      live.containers.push(c);
      live.imageTags.push(x.image);
    }
  }

  if (opts.changes === false) return { desired, live, applied };
  // Some change, so the planner does real work: every 25th service gets a new
  // image and a changed env value (git), every 40th is stopped (drift).
  stacks.forEach((st) =>
    st.services.forEach((x, i) => {
      const global = stacks.indexOf(st) * PER_STACK + i;
      if (global % 25 === 3) {
        const { configHash: _h, ...draft } = { ...x, image: x.image.replace(':v1', ':v2'), environment: { ...x.environment, WORKERS: '8' } };
        st.services[i] = { ...draft, configHash: configHash(draft) };
      }
    }),
  );
  live.containers.forEach((c, i) => {
    if (i % 40 === 5) Object.assign(c, { state: 'exited', status: 'Exited (1) 4 minutes ago' });
  });
  return { desired, live, applied };
}

