import { describe, expect, it } from 'vitest';
import { buildAppliedRecord } from '../../src/apply/applied-record.js';
import { containerLabels } from '../../src/apply/labels-for.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { detectDrift } from '../../src/drift/detect.js';
import { liveContainer, liveNetwork, liveState } from '../support/live.js';
import { tmpRepo } from '../support/tmp-repo.js';

const repo = tmpRepo({
  'stacks/shop/compose.yaml': `
services:
  web: {image: app:v1, networks: [front, back]}
  migrate: {image: app:v1, networks: [back]}
  api: {image: app:v1, networks: [back], depends_on: {migrate: {condition: service_completed_successfully}}}
networks:
  front: {}
  back: {internal: true}
volumes:
  data: {}
`,
});
const desired = loadDesiredState(repo, { env: {} }).state!;
const record = buildAppliedRecord(desired, 'abc123', repo, 'salt', new Date(0));
const svc = (name: string) => desired.stacks[0]!.services.find((s) => s.name === name)!;

/** The host exactly as berth left it. */
function inSync() {
  return liveState({
    containers: ['web', 'migrate', 'api'].map((n) =>
      liveContainer({
        name: svc(n).containerName,
        labels: containerLabels(svc(n), 'abc123'),
        networks: svc(n).networks.map((x) => x.name),
        ...(n === 'migrate' ? { state: 'exited' as const, status: 'Exited (0) 3 minutes ago' } : {}),
      }),
    ),
    networks: [liveNetwork({ name: 'shop_front' }), liveNetwork({ name: 'shop_back', internal: true })],
    volumes: [{ name: 'shop_data', driver: 'local', labels: {} }],
  });
}

describe('detectDrift', () => {
  it('finds nothing on a host in sync (a finished one-shot is not "stopped")', () => {
    expect(detectDrift(record, inSync())).toEqual([]);
  });

  it('reports a missing, a stopped and a hand-recreated container with stable ids', () => {
    const live = inSync();
    live.containers = live.containers.filter((c) => c.name !== 'shop-web-1');
    const api = live.containers.find((c) => c.name === 'shop-api-1')!;
    api.state = 'exited';
    api.status = 'Exited (137) 5 seconds ago';
    live.containers.push(liveContainer({ name: 'shop-web-1', labels: { ...containerLabels(svc('web'), 'abc123'), 'io.berth.config-hash': 'v1:handmade' }, networks: ['shop_front', 'shop_back'] }));
    const items = detectDrift(record, live);
    expect(items.map((i) => [i.id, i.found])).toEqual([
      ['shop/container/shop-api-1/stopped', 'exited (Exited (137) 5 seconds ago)'],
      ['shop/container/shop-web-1/modified', 'config handmade (recreated outside berth)'],
    ]);
  });

  it('reports wrong networks, missing network and volume, an unmanaged replacement, and a foreign container on an internal network', () => {
    const live = inSync();
    live.containers.find((c) => c.name === 'shop-web-1')!.networks = ['shop_front'];
    live.networks = live.networks.filter((n) => n.name !== 'shop_front');
    live.volumes = [];
    const api = live.containers.find((c) => c.name === 'shop-api-1')!;
    api.labels = {};
    live.containers.push(liveContainer({ name: 'debug-shell', networks: ['shop_back'] }));
    const items = detectDrift(record, live);
    expect(items.map((i) => `${i.id}: ${i.found}`)).toEqual([
      'shop/container/shop-api-1/unmanaged: a container without io.berth.managed=true (image img)',
      'shop/container/shop-web-1/networks: -shop_back',
      'shop/network/shop_back/foreign-attached: unmanaged: debug-shell, shop-api-1',
      'shop/network/shop_front/missing: no such network',
      'shop/volume/shop_data/missing: no such volume',
    ]);
  });
});
