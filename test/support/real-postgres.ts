// Helpers for tests on the real PostgreSQL 15 image (berth-test/pg:15,
// scripts/pg-image.sh): a database service in Compose, rows written and
// checked with psql over TCP with the password, and the table's fingerprint.
import { docker, type DockerRun } from './engine.js';

/** BERTH_PG_IMAGE names another build (as scripts/pg-image.sh takes it), e.g. to compare two versions side by side. */
export const PG_IMAGE = process.env.BERTH_PG_IMAGE ?? 'berth-test/pg:15';
export const PG_BROKEN_IMAGE = `${PG_IMAGE}-broken`;
/** Planted as the database password: the suite's secret scan proves it never reaches output. */
export const PG_PASSWORD = 'pg-soak-secret-5521';

export interface PgService {
  image?: string;
  /** The service's `command`, as a JSON array (e.g. ["postgres", "-c", "shared_buffers=48MB"]). */
  command?: string[];
  /** Extra environment lines (`KEY: "value"`). */
  env?: Record<string, string>;
}

/**
 * A Compose service `db` on the real image: data on the named volume
 * `pgdata`, and a real `pg_dump -Fc` into the named volume `backups` as the
 * recreate strategy's pre-change backup (one file per run).
 */
export function pgCompose(s: PgService = {}, extraServices = ''): string {
  const env = { POSTGRES_USER: 'app', POSTGRES_DB: 'app', POSTGRES_PASSWORD: PG_PASSWORD, ...(s.env ?? {}) };
  return `services:
  db:
    image: ${s.image ?? PG_IMAGE}
${s.command ? `    command: ${JSON.stringify(s.command)}\n` : ''}    environment:
${Object.entries(env)
  .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
    volumes:
      - pgdata:/var/lib/postgresql/data
      - backups:/backup
    x-berth:
      tier: database
      backup:
        command: ["sh", "-c", "pg_dump -U app -d app -Fc -f /backup/pre-$$(date +%s%N).dump"]
        timeoutSeconds: 60
${extraServices}volumes:
  pgdata: {}
  backups: {}
`;
}

/** psql in the container over TCP with the password (scram), as a client on the network would; -tA output. */
export async function psql(container: string, sql: string, db = 'app', run: DockerRun = docker): Promise<string> {
  const r = await run(['exec', '-e', `PGPASSWORD=${PG_PASSWORD}`, container, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-U', 'app', '-d', db, '-tAc', sql]);
  if (r.code !== 0) throw new Error(`psql in ${container}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** count|md5 of every row of `t` in id order: equal fingerprints mean the same rows. */
export const FINGERPRINT_SQL = `select count(*) || '|' || coalesce(md5(string_agg(id || ':' || payload, ',' order by id)), '-') from t`;

/** Create table t (if missing) and add `n` rows after the last id; returns the fingerprint after. */
export async function addRows(container: string, n: number, run: DockerRun = docker): Promise<string> {
  await psql(
    container,
    `create table if not exists t (id int primary key, payload text not null);
     insert into t select i, md5(i::text || clock_timestamp()::text) from generate_series(coalesce((select max(id) from t), 0) + 1, coalesce((select max(id) from t), 0) + ${n}) i`,
    'app',
    run,
  );
  return fingerprint(container, 'app', run);
}

export function fingerprint(container: string, db = 'app', run: DockerRun = docker): Promise<string> {
  return psql(container, FINGERPRINT_SQL, db, run);
}

/** Wait until the container's Docker health is `healthy` (polling; the caller's test timeout bounds it). */
export async function waitHealthy(container: string): Promise<void> {
  for (;;) {
    const r = await docker(['inspect', '-f', '{{.State.Health.Status}}', container]);
    if (r.stdout.trim() === 'healthy') return;
    await new Promise((res) => setTimeout(res, 300));
  }
}
