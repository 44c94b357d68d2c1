import { describe, expect, it } from 'vitest';
import { containerCreateBody } from '../../src/adapters/container-body.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { engineCapabilityErrors, engineRequirements } from '../../src/plan/engine-capabilities.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const load = (files: Record<string, string>) => loadDesiredState(tmpRepo(files), { env: {}, validators });

const COMPOSE = `
services:
  t:
    image: alpine
    gpus: all
    storage_opt: {size: 20G}
    userns_mode: host
    cgroup: private
    cgroup_parent: /docker
    uts: host
    isolation: default
    device_cgroup_rules: ["c 1:3 mr", "a 7:* rmw"]
    annotations: {com.example.note: "x"}
    blkio_config:
      weight: 300
      weight_device: [{path: /dev/sda, weight: 400}]
      device_read_bps: [{path: /dev/sda, rate: 12mb}]
      device_write_bps: [{path: /dev/sda, rate: "1024k"}]
      device_read_iops: [{path: /dev/sda, rate: 120}]
      device_write_iops: [{path: /dev/sda, rate: 30}]
    devices:
      - "/dev/fuse"
      - {source: /dev/null, target: /dev/mynull, permissions: rw}
    deploy:
      labels: {swarm.only: "yes"}
      resources:
        reservations:
          devices:
            - {driver: nvidia, device_ids: ["0", "3"], capabilities: [gpu, compute], options: {virtualization: "false"}}
            - {capabilities: [tpu], count: 2}
    attach: false
  plain:
    image: alpine
`;

describe('HostConfig keys, as docker compose sends them', () => {
  const r = load({ 'stacks/s/compose.yaml': COMPOSE });
  const svc = (n: string) => r.state!.stacks[0]!.services.find((s) => s.name === n)!;

  it('validate, with a warning for each key that sets nothing outside swarm', () => {
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.path)).toEqual(['services.t.deploy.labels', 'services.t.attach']);
  });

  it('map onto the create body', () => {
    const H = containerCreateBody(svc('t'), 's-t-1', {}, '1.41').HostConfig;
    expect(H).toMatchObject({
      DeviceRequests: [
        { Driver: '', Count: -1, DeviceIDs: [], Capabilities: [['gpu']], Options: {} },
        { Driver: 'nvidia', Count: 0, DeviceIDs: ['0', '3'], Capabilities: [['gpu', 'compute']], Options: { virtualization: 'false' } },
        { Driver: '', Count: 2, DeviceIDs: [], Capabilities: [['tpu']], Options: {} },
      ],
      StorageOpt: { size: '20G' },
      UsernsMode: 'host',
      CgroupnsMode: 'private',
      CgroupParent: '/docker',
      UTSMode: 'host',
      Isolation: 'default',
      DeviceCgroupRules: ['c 1:3 mr', 'a 7:* rmw'],
      Annotations: { 'com.example.note': 'x' },
      BlkioWeight: 300,
      BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 400 }],
      BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 12 * 1024 * 1024 }],
      BlkioDeviceWriteBps: [{ Path: '/dev/sda', Rate: 1024 * 1024 }],
      BlkioDeviceReadIOps: [{ Path: '/dev/sda', Rate: 120 }],
      BlkioDeviceWriteIOps: [{ Path: '/dev/sda', Rate: 30 }],
      Devices: [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' },
      ],
    });
    expect(containerCreateBody(svc('t'), 's-t-1', {}, '1.41').Labels).not.toHaveProperty('swarm.only');
  });

  it('leave a service that sets none of them as it was (no new field, the same config hash inputs)', () => {
    expect(svc('plain')).not.toHaveProperty('host');
    const H = containerCreateBody(svc("plain"), "s-plain-1", {}, "1.41").HostConfig as unknown as Record<string, unknown>;
    for (const k of ['DeviceRequests', 'StorageOpt', 'UsernsMode', 'CgroupnsMode', 'Annotations', 'BlkioWeight']) expect(H).not.toHaveProperty(k);
  });

  it('annotations need API 1.43: an older engine fails the plan at the key (it would drop them)', () => {
    const errs = engineCapabilityErrors(engineRequirements(r.state!), { version: '20.10.24', apiVersion: '1.41' });
    expect(errs.map((e) => [e.path?.join('.'), e.message])).toEqual([
      ['services.t.annotations', '`annotations` needs Docker Engine 24.0 (API 1.43) or newer; this engine is 20.10.24 (API 1.41)'],
    ]);
  });

  it('label_file labels, under the service labels; a missing file and bad device requests are located errors', () => {
    const ok = load({
      'stacks/s/compose.yaml': 'services:\n  t:\n    image: alpine\n    label_file: [a.env, b.env]\n    labels: {x: svc}\n',
      'stacks/s/a.env': 'x=a\ny=a\nz=a\n',
      'stacks/s/b.env': 'y=b\n',
    });
    expect(ok.state!.stacks[0]!.services[0]!.labels).toEqual({ x: 'svc', y: 'b', z: 'a' });
    const bad = load({
      'stacks/s/compose.yaml': 'services:\n  t:\n    image: alpine\n    label_file: missing.env\n    gpus: [{count: 1, device_ids: ["0"]}]\n',
    });
    expect(bad.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      '4:17 label_file "missing.env" not found (stacks/s/missing.env)',
      '5:35 `count` and `device_ids` cannot be used together',
    ]);
  });
});
