import { RETIRED_SUFFIX } from '../labels.js';
import type { ServiceRecreateOp } from '../model/plan.js';
import { reviveForBackup, runBackup } from './backup.js';
import { waitReady } from './readiness.js';
import { RolloutFailure, type RolloutContext, type RolloutReport } from './types.js';

/**
 * recreate (PRODUCT.md §8, the database default, and the fallback for
 * services that publish host ports): optional backup in the old container,
 * stop the old one and keep it as `<name>_berth_old`, start the new one on
 * the same volumes, wait for it to be ready. Success removes the old one;
 * failure removes the new one and starts the old one again under its name.
 *
 * A crash in between leaves `_berth_old` (and maybe the new container); the
 * controller treats a lone `_berth_old` as the service and replaces it again.
 */
export async function recreate(op: ServiceRecreateOp, ctx: RolloutContext): Promise<RolloutReport> {
  return (await recreateSwap(op, ctx, false)).report;
}

/** The same, returning the new container's id; with `keepOld` the stopped old container stays as `<name>_berth_old` (for a rolling update's rollback). */
export async function recreateSwap(op: Pick<ServiceRecreateOp, 'service' | 'old'>, ctx: RolloutContext, keepOld: boolean): Promise<{ report: RolloutReport; newId: string }> {
  const { docker, clock, settings } = ctx;
  const spec = op.service;
  const canonical = spec.containerName;
  const retiredName = `${canonical}${RETIRED_SUFFIX}`;
  const notes: string[] = [];

  let old = await docker.inspectContainer(op.old.id);
  if (spec.berth.backup) {
    try {
      old = await reviveForBackup(spec, old, ctx);
      notes.push(await runBackup(spec, old, ctx));
    } catch (e) {
      // Nothing was changed: the old container keeps running.
      throw RolloutFailure.from(e, 'recreate', true, null);
    }
  }

  ctx.progress(`stopping ${op.old.name}`);
  await docker.stopContainer(op.old.id);
  try {
    if (old.name !== retiredName) await docker.renameContainer(op.old.id, retiredName);
  } catch (e) {
    if (old.running) await docker.startContainer(op.old.id).catch(() => undefined);
    throw RolloutFailure.from(e, 'recreate', true, null);
  }

  let newId: string | null = null;
  try {
    newId = await docker.createContainer(spec, canonical, ctx.labels);
    await docker.startContainer(newId);
    ctx.progress(`started ${canonical}`);
    await waitReady(newId, spec, {
      docker,
      clock,
      timeoutMs: settings.rollout.healthTimeoutSeconds * 1000,
      signal: ctx.signal,
      progress: ctx.progress,
    });
  } catch (e) {
    ctx.progress(`rolling back to ${op.old.name}`);
    const rollbackError = await restore(ctx, newId, op.old.id, canonical, old.running);
    throw RolloutFailure.from(e, 'recreate', true, rollbackError);
  }
  if (!keepOld) await docker.removeContainer(op.old.id, true);
  return { report: { strategy: 'recreate', result: 'succeeded', notes }, newId: newId! };
}

/** Remove the new container, give the old one its name back and start it (if it ran before). */
async function restore(ctx: RolloutContext, newId: string | null, oldId: string, canonical: string, wasRunning: boolean): Promise<string | null> {
  try {
    if (newId) await ctx.docker.removeContainer(newId, true);
    await ctx.docker.renameContainer(oldId, canonical);
    if (wasRunning) await ctx.docker.startContainer(oldId);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
