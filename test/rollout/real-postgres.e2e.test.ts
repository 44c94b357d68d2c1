import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { addRows, fingerprint, PG_BROKEN_IMAGE, pgCompose, psql, waitHealthy, type PgService } from '../support/real-postgres.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Database rollouts (recreate, PRODUCT.md §8) on a real PostgreSQL 15
 * (berth-test/pg:15, scripts/pg-image.sh), checked with psql over TCP, not a
 * marker file. One database goes through every step in order, as a real one
 * would: a broken new image, a bad `command`, a good new setting, then its
 * backups are restored into a fresh database. After each step the table's
 * fingerprint (row count + md5 of every row) must be the one written at the start.
 */
const BERTH_YAML = 'rollout:\n  drainSeconds: 0\n  healthTimeoutSeconds: 90\n';
let engine = false;
const stack = uniqueName('rpg');
const db = `${stack}-db-1`;
const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-rpg-state-')) };
let repo = '';
/** The fingerprint written after the first apply; every step must keep it. */
let rows = '';

const write = (s: PgService) => writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), pgCompose(s));
const id = async () => (await docker(['inspect', '-f', '{{.Id}}', db])).stdout.trim();
const backups = async () =>
  (await docker(['exec', db, 'sh', '-c', 'ls /backup | grep "^pre-.*\\.dump$" | sort'])).stdout.split('\n').filter(Boolean);

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  repo = tmpRepo({ 'berth.yaml': BERTH_YAML, [`stacks/${stack}/compose.yaml`]: pgCompose() });
});

afterAll(async () => {
  if (engine) await removePrefixed(`${stack}-`);
  if (engine) await removePrefixed(`${stack}_`);
});

describe.sequential('recreate on a real PostgreSQL 15', () => {
  it('first apply: initdb with the password, rows written over TCP', async (ctx) => {
    if (!engine) ctx.skip();
    const r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(0);
    await waitHealthy(db);
    rows = await addRows(db, 5000);
    expect(rows).toMatch(/^5000\|[0-9a-f]{32}$/);
    // scram over the network: a wrong password is refused
    const wrong = await docker(['exec', '-e', 'PGPASSWORD=wrong', db, 'psql', '-h', '127.0.0.1', '-U', 'app', '-d', 'app', '-c', 'select 1']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/password authentication failed/);
    // the server runs as the unprivileged postgres user
    expect((await docker(['exec', db, 'stat', '-c', '%U', '/proc/1'])).stdout.trim()).toBe('postgres');
  }, 180_000);

  it('a new image that starts and never gets healthy: the old server comes back on the same volume, every row there', async (ctx) => {
    if (!engine || !rows) ctx.skip();
    const before = await id();
    write({ image: PG_BROKEN_IMAGE });
    const r = await runCli(['apply', '--repo', repo, '--json'], env);
    expect(r.code, r.output).toBe(1);
    const op = (JSON.parse(r.stdout) as { ops: { object: string; rollout?: { strategy: string; result: string } }[] }).ops.find((o) => o.object === `${stack}/db`)!;
    expect(op.rollout).toMatchObject({ strategy: 'recreate', result: 'rolled_back' });
    expect(await id()).toBe(before);
    await waitHealthy(db);
    expect(await fingerprint(db)).toBe(rows);
    expect(await backups()).toHaveLength(1);
    expect((await listPrefixed(`${stack}-`)).containers).toEqual([db]);
  }, 240_000);

  it('a bad command (the server exits at once): rolled back, every row there', async (ctx) => {
    if (!engine || !rows) ctx.skip();
    const before = await id();
    write({ command: ['postgres', '-c', 'no_such_setting=1'] });
    const r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/rolled back/);
    expect(await id()).toBe(before);
    await waitHealthy(db);
    expect(await fingerprint(db)).toBe(rows);
    expect(await backups()).toHaveLength(2);
    expect((await listPrefixed(`${stack}-`)).containers).toEqual([db]);
  }, 240_000);

  it('a good new version (shared_buffers changed in command) comes up on the same data', async (ctx) => {
    if (!engine || !rows) ctx.skip();
    const before = await id();
    write({ command: ['postgres', '-c', 'shared_buffers=48MB'] });
    const r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(0);
    expect(await id()).not.toBe(before);
    await waitHealthy(db);
    expect(await psql(db, 'show shared_buffers')).toBe('48MB');
    expect(await fingerprint(db)).toBe(rows);
    expect((await listPrefixed(`${stack}-`)).containers).toEqual([db]);
    expect((await runCli(['plan', '--repo', repo], env)).code).toBe(0);
  }, 240_000);

  // Regression (found by db-kill-points): berth killed after stopping the old server left it
  // stopped; the restart's pg_dump then ran in a one-off container with no server, failed, and
  // the database stayed down ("nothing was changed"), and a rollback never started it again.
  it('the old server stopped (as a crash between stop and start leaves it): the next apply starts it for its pg_dump; a failed rollout starts it again', async (ctx) => {
    if (!engine || !rows) ctx.skip();
    expect((await docker(['stop', db])).code).toBe(0);
    write({ image: PG_BROKEN_IMAGE });
    const failed = await runCli(['apply', '--repo', repo], env);
    expect(failed.code, failed.output).toBe(1);
    expect(failed.output).toMatch(/starting .*db-1 again for its backup/);
    await waitHealthy(db);
    expect(await fingerprint(db)).toBe(rows);
    expect(await backups()).toHaveLength(4);

    expect((await docker(['stop', db])).code).toBe(0);
    write({ command: ['postgres', '-c', 'shared_buffers=64MB'] });
    const good = await runCli(['apply', '--repo', repo], env);
    expect(good.code, good.output).toBe(0);
    await waitHealthy(db);
    expect(await psql(db, 'show shared_buffers')).toBe('64MB');
    expect(await fingerprint(db)).toBe(rows);
    expect(await backups()).toHaveLength(5);
  }, 300_000);

  it('every backup restores into a fresh database equal to the original', async (ctx) => {
    if (!engine || !rows) ctx.skip();
    const files = await backups();
    expect(files).toHaveLength(5);
    for (const [i, f] of files.entries()) {
      const target = `restored${i}`;
      await psql(db, `create database ${target}`);
      const r = await docker(['exec', db, 'pg_restore', '-U', 'app', '-d', target, '--no-owner', '--exit-on-error', `/backup/${f}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(await fingerprint(db, target)).toBe(rows);
    }
  }, 120_000);
});
