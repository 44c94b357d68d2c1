import { describe, expect, it } from 'vitest';
import { controllerContext } from '../../controllers/context.js';
import { planDatabases } from '../../controllers/database.js';
import { planApps } from '../../controllers/service.js';
import type { AppliedRecord } from '../../src/model/applied.js';
import type { DesiredState } from '../../src/model/desired.js';
import type { LiveState } from '../../src/model/live.js';
import type { ServiceRecreateOp } from '../../src/model/plan.js';
import { appliedFor, desiredFrom, emptyLive, liveFor, stackRepo, withInventory,
} from '../support/plan-fixtures.js';

const DATA = (pg: string, rollout = '') => `
services:
  postgres:
    image: ${pg}
    environment:
      POSTGRES_PASSWORD: pw-value-never-printed
    volumes: [pgdata:/var/lib/postgresql/data]
    ${rollout}
  cache:
    image: berth-test/redis:7
  web:
    image: berth-test/web:v1
    depends_on:
      postgres: {condition: service_healthy}
volumes:
  pgdata: {}
`;

function dbs(desired: DesiredState, live: LiveState, applied: AppliedRecord | null = null) {
  return planDatabases(desired, live, applied, controllerContext(desired, live, withInventory(applied, live)));
}

describe('database controller', () => {
  const v18 = desiredFrom(stackRepo({ data: DATA('berth-test/postgres:18') }));

  it('plans the database tier only, in the databases wave', () => {
    const r = dbs(v18, emptyLive());
    expect(r.ops.map((o) => [o.id, o.wave])).toEqual([
      ['service:data/cache', 'databases'],
      ['service:data/postgres', 'databases'],
    ]);
    const a = planApps(v18, emptyLive(), null);
    expect(a.ops.map((o) => [o.id, o.wave])).toEqual([['service:data/web', 'apps']]);
  });

  it('recreates a database with the recreate strategy by default', () => {
    const v19 = desiredFrom(stackRepo({ data: DATA('berth-test/postgres:19') }));
    const r = dbs(v19, liveFor(v18), appliedFor(v18));
    expect(r.ops).toHaveLength(1);
    const op = r.ops[0] as ServiceRecreateOp;
    expect(op).toMatchObject({ strategy: 'recreate', reasons: ['image berth-test/postgres:18 → berth-test/postgres:19'] });
  });

  it('never runs two servers on one data volume: start-first becomes recreate, with the reason', () => {
    const before = desiredFrom(stackRepo({ data: DATA('berth-test/postgres:18', 'x-berth: {rollout: start-first}') }));
    const after = desiredFrom(stackRepo({ data: DATA('berth-test/postgres:19', 'x-berth: {rollout: start-first}') }));
    const op = dbs(after, liveFor(before), appliedFor(before)).ops[0] as ServiceRecreateOp;
    expect(op.strategy).toBe('recreate');
    expect(op.reasons).toEqual([
      'image berth-test/postgres:18 → berth-test/postgres:19',
      'database writes to volume data_pgdata: recreate instead of start-first',
    ]);
    expect(JSON.stringify(op)).not.toContain('pw-value-never-printed');
  });

  it('plans nothing for a database that matches', () => {
    expect(dbs(v18, liveFor(v18), appliedFor(v18))).toEqual({ ops: [], errors: [], warnings: [] });
  });
});
