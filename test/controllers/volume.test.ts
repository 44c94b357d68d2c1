import { describe, expect, it } from 'vitest';
import { controllerContext } from '../../controllers/context.js';
import { planVolumes } from '../../controllers/volume.js';
import type { AppliedRecord } from '../../src/model/applied.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { LiveState } from '../../src/model/live.js';
import { appliedFor, desiredFrom, emptyLive, liveFor, liveVolume, managedLabels, stackRepo } from '../support/plan-fixtures.js';

const INFRA = `
services:
  db:
    image: postgres:18
    volumes: [pgdata:/var/lib/postgresql/data]
volumes:
  pgdata:
    name: pgdata
  cache:
    driver_opts:
      type: tmpfs
      device: tmpfs
`;

const APP = `
services:
  web:
    image: busybox:1
    volumes: [pgdata:/data:ro]
volumes:
  pgdata:
    external: true
`;

function plan(desired: DesiredState, live: LiveState, applied: AppliedRecord | null = null) {
  return planVolumes(desired, live, applied, controllerContext(desired, live, applied));
}

describe('volume controller', () => {
  const desired = desiredFrom(stackRepo({ infra: INFRA, app: APP }));

  it('creates missing non-external volumes with reason "missing"', () => {
    const r = plan(desired, emptyLive());
    expect(r.errors).toEqual([]);
    expect(r.ops.map((o) => [o.kind, o.id, o.wave, o.action, o.stack, o.object, o.reasons])).toEqual([
      ['volume.create', 'volume:infra_cache', 'volumes', 'create', 'infra', 'infra_cache', ['missing']],
      ['volume.create', 'volume:pgdata', 'volumes', 'create', 'infra', 'pgdata', ['missing']],
    ]);
  });

  it('plans nothing when the host matches', () => {
    expect(plan(desired, liveFor(desired))).toEqual({ ops: [], errors: [], warnings: [] });
  });

  it('refuses a name taken by an unmanaged volume and suggests external: true', () => {
    const live = liveFor(desired);
    live.volumes = live.volumes.map((v) => (v.name === 'pgdata' ? liveVolume({ name: 'pgdata' }) : v));
    const r = plan(desired, live);
    expect(r.ops).toEqual([]);
    expect(r.errors).toEqual([
      {
        code: 'volume-unmanaged',
        stack: 'infra',
        object: 'pgdata',
        message: 'volume pgdata exists but is not managed by berth; declare it `external: true` to use it as it is',
      },
    ]);
  });

  it('accepts an external volume another stack defines, even before it exists', () => {
    expect(plan(desired, emptyLive()).errors).toEqual([]);
  });

  it('accepts an external volume that exists on the host, unmanaged', () => {
    const only = desiredFrom(stackRepo({ app: APP }));
    const live = emptyLive();
    live.volumes.push(liveVolume({ name: 'pgdata' }));
    expect(plan(only, live)).toEqual({ ops: [], errors: [], warnings: [] });
  });

  it('is an error when an external volume is neither on the host nor defined by a stack', () => {
    const only = desiredFrom(stackRepo({ app: APP }));
    const r = plan(only, emptyLive());
    expect(r.ops).toEqual([]);
    expect(r.errors).toEqual([
      {
        code: 'volume-external-missing',
        stack: 'app',
        object: 'pgdata',
        message: 'external volume pgdata does not exist on the host and no stack in the repository defines it; create it (docker volume create pgdata) or define it in a stack',
      },
    ]);
  });

  it('only warns when a managed volume has another driver than the repository says', () => {
    const live = liveFor(desired);
    live.volumes = live.volumes.map((v) => (v.name === 'pgdata' ? { ...v, driver: 'nfs' } : v));
    const r = plan(desired, live);
    expect(r.ops).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([
      'volume pgdata: driver nfs on the host, local in the repository; berth never recreates a volume (move the data and remove the volume by hand to change it)',
    ]);
  });

  it('only warns when driver_opts changed since the last apply', () => {
    const before = structuredClone(desired);
    before.stacks.find((s) => s.name === 'infra')!.volumes.find((v) => v.key === 'cache')!.driverOpts = { type: 'tmpfs', device: 'tmpfs', o: 'size=100m' };
    const r = plan(desired, liveFor(desired), appliedFor(before));
    expect(r.ops).toEqual([]);
    expect(r.warnings).toEqual([
      'volume infra_cache: driver_opts changed (o); berth never recreates a volume (move the data and remove the volume by hand to change it)',
    ]);
  });

  it('never removes a volume, whatever prune says', () => {
    const pruneAll = desiredFrom({ ...stackRepo({ infra: INFRA, app: APP }), 'berth.yaml': 'policy:\n  prune: true\nprune:\n  volumes: true\n' });
    const live = liveFor(pruneAll);
    live.volumes.push(
      liveVolume({ name: 'old_data', labels: managedLabels('old') }),
      liveVolume({ name: 'scratch', labels: managedLabels('old', { 'io.berth.disposable': 'true' }) }),
    );
    expect(plan(pruneAll, live)).toEqual({ ops: [], errors: [], warnings: [] });
  });
});
