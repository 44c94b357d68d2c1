import { describe, expect, it } from 'vitest';
import { toLiveTask } from '../../src/adapters/dockerode-swarm.js';

describe('DockerodeSwarm task view', () => {
  it("gives a task's addresses on every network it is attached to, without the prefix length (what Traefik's swarm provider lists)", () => {
    const raw = {
      ID: 't1',
      ServiceID: 's1',
      Slot: 2,
      NodeID: 'n1',
      DesiredState: 'running',
      Status: { State: 'running', Err: '' },
      Spec: { ContainerSpec: { Image: 'acme/web:2@sha256:abc' } },
      NetworksAttachments: [
        { Network: { ID: 'ingress' }, Addresses: ['10.0.0.7/24'] },
        { Network: { ID: 'shop_default' }, Addresses: ['10.0.3.5/24', 'fd00::5/64'] },
      ],
    };
    expect(toLiveTask(raw)).toMatchObject({ id: 't1', slot: 2, state: 'running', image: 'acme/web:2@sha256:abc', addresses: ['10.0.0.7', '10.0.3.5', 'fd00::5'] });
  });

  it('a task not yet attached (pending, or on the host network) has no addresses', () => {
    expect(toLiveTask({ ID: 't2', Status: { State: 'pending' } }).addresses).toEqual([]);
    expect(toLiveTask({ ID: 't3', NetworksAttachments: [{ Network: {} }] }).addresses).toEqual([]);
  });
});
