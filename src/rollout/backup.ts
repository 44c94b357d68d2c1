import type { ServiceSpec } from '../model/desired.js';
import type { ContainerDetails } from '../ports/docker.js';
import { GateError } from './gates.js';
import { waitReady } from './readiness.js';
import type { RolloutContext } from './types.js';

/** Characters of a failed backup's output kept for the report (its end says why). */
const OUTPUT_TAIL = 400;

/**
 * `x-berth.backup` before a recreate: run the command with `docker exec` in
 * the old container while it still runs (so `pg_dump` talks to the live
 * server); when the old container is not running, in a one-off container of
 * the service on the same volumes, without networks so nothing can mistake
 * it for the service. Any failure throws a GateError (`backup`) and the
 * rollout stops before the old container is touched.
 */
export async function runBackup(spec: ServiceSpec, old: ContainerDetails, ctx: RolloutContext): Promise<string> {
  const backup = spec.berth.backup!;
  const timeoutMs = backup.timeoutSeconds * 1000;
  const what = `${spec.stack}/${spec.name}`;
  ctx.progress(`backing up ${what} (${old.running ? `exec in ${old.name}` : 'one-off container'})`);
  const t0 = ctx.clock.now();
  const { exitCode, output } = old.running ? await execIn(old, backup.command, timeoutMs, ctx) : await oneOff(spec, backup.command, timeoutMs, ctx);
  if (exitCode !== 0) {
    const tail = output.trim().slice(-OUTPUT_TAIL);
    throw new GateError(`${what}: backup command exited with code ${exitCode}${tail ? `: ${tail}` : ''}; nothing was changed`, 'backup', tail || null);
  }
  return `backup finished in ${((ctx.clock.now() - t0) / 1000).toFixed(1)}s`;
}

/**
 * The old container of a service with a backup is stopped — most often
 * because berth died between stopping it and starting the new one (a crash
 * mid-rollout): start it again and wait until it is ready, so the backup runs
 * against the live server (`pg_dump` needs one; a one-off container has no
 * server and the rollout would stop with the database left down) and a
 * rollback starts it again. When it does not come up, it is stopped again and
 * the backup runs in a one-off container, as before. Returns the container as it is now.
 */
export async function reviveForBackup(spec: ServiceSpec, old: ContainerDetails, ctx: RolloutContext): Promise<ContainerDetails> {
  if (old.running) return old;
  ctx.progress(`starting ${old.name} again for its backup (it was stopped, e.g. by a crash mid-rollout)`);
  try {
    await ctx.docker.startContainer(old.id);
    await waitReady(old.id, spec, { docker: ctx.docker, clock: ctx.clock, timeoutMs: ctx.settings.rollout.healthTimeoutSeconds * 1000, signal: ctx.signal, progress: ctx.progress });
  } catch (e) {
    ctx.progress(`${old.name} did not come up (${(e as Error).message}); backing up from a one-off container`);
    await ctx.docker.stopContainer(old.id).catch(() => undefined);
  }
  return ctx.docker.inspectContainer(old.id);
}

async function execIn(old: ContainerDetails, cmd: string[], timeoutMs: number, ctx: RolloutContext) {
  try {
    return await ctx.docker.exec(old.id, cmd, timeoutMs);
  } catch (e) {
    throw new GateError(`backup in ${old.name} failed: ${(e as Error).message}; nothing was changed`, 'backup');
  }
}

async function oneOff(spec: ServiceSpec, cmd: string[], timeoutMs: number, ctx: RolloutContext) {
  const { docker, clock } = ctx;
  const name = `${spec.containerName}_berth_backup`;
  const body: ServiceSpec = {
    ...spec,
    containerName: name,
    // [''] resets the image's entrypoint, so the command runs as written.
    entrypoint: [''],
    command: cmd,
    ports: [],
    networks: [],
    networkMode: 'none',
    healthcheck: { disable: true },
    restart: 'no',
  };
  await docker.removeContainer(name, true);
  const id = await docker.createContainer(body, name, { ...ctx.labels, 'io.berth.oneoff': 'backup', 'com.docker.compose.oneoff': 'True' });
  try {
    await docker.startContainer(id);
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      const c = await docker.inspectContainer(id);
      if (!c.running && c.status !== 'created') return { exitCode: c.exitCode, output: '' };
      if (clock.now() >= deadline) throw new GateError(`backup of ${spec.stack}/${spec.name} timed out after ${Math.round(timeoutMs / 1000)}s; nothing was changed`, 'backup');
      await clock.sleep(250, ctx.signal);
    }
  } finally {
    await docker.removeContainer(id, true).catch(() => undefined);
  }
}
