import { RETIRED_SUFFIX } from '../labels.js';
import type { ServiceSpec } from '../model/desired.js';
import type { ReplicaStep, ServiceRollingOp } from '../model/plan.js';
import { replicaSpec } from '../model/replicas.js';
import { GateError } from './gates.js';
import { waitReady } from './readiness.js';
import { recreateSwap } from './recreate.js';
import { startFirstSwap } from './start-first.js';
import { RolloutFailure, type RolloutContext, type RolloutReport } from './types.js';

/** What a rolling update needs: a rollout context whose labels depend on the replica (its container number). */
export interface RollingContext extends Omit<RolloutContext, 'labels'> {
  labels(spec: ServiceSpec): Record<string, string>;
}

interface Swapped {
  step: ReplicaStep;
  spec: ServiceSpec;
  newId: string;
}

/**
 * A rolling update over a scaled service (`deploy.update_config`): the changed
 * replicas are replaced `parallelism` at a time, each through the same gates
 * as a one-container rollout (start-first: readiness, then the bake gate, then
 * drain; or recreate). The old container of every replaced replica is kept,
 * stopped, as `<name>_berth_old` until the whole service has moved, so that:
 *
 *   failure_action rollback (berth's default) — a failed replica (its own
 *     rollout already undone) rolls back every replica replaced before it,
 *     newest first, and the service ends on the old revision;
 *   pause — the rollout stops where it is (replaced replicas stay new);
 *   continue — the other replicas are still replaced.
 *
 * Failures up to `max_failure_ratio` of the replicas are tolerated. After
 * each batch, `monitor` watches the new replicas (up, not unhealthy, not
 * restarted); `delay` separates batches.
 */
export async function rollingUpdate(op: ServiceRollingOp, ctx: RollingContext): Promise<RolloutReport> {
  const { update } = op;
  const size = update.parallelism === 0 ? op.steps.length : update.parallelism;
  const batches: ReplicaStep[][] = [];
  for (let i = 0; i < op.steps.length; i += size) batches.push(op.steps.slice(i, i + size));
  const replaced: Swapped[] = [];
  const failed: { step: ReplicaStep; error: RolloutFailure }[] = [];
  const notes: string[] = [];
  const tolerated = () => failed.length / op.steps.length <= update.maxFailureRatio;

  for (const [i, batch] of batches.entries()) {
    if (i > 0 && update.delayMs > 0) {
      ctx.progress(`waiting ${update.delayMs / 1000}s before the next replicas (update_config.delay)`);
      await ctx.clock.sleep(update.delayMs, ctx.signal);
    }
    if (ctx.signal?.aborted) {
      failed.push({ step: batch[0]!, error: RolloutFailure.from(new GateError('stopped before the next replicas (shutdown requested)', 'aborted', null), op.strategy, true, null) });
      break;
    }
    ctx.progress(`replacing ${batch.map((s) => `#${s.replica}`).join(', ')} of ${op.steps.length} (${op.strategy})`);
    const results = await Promise.all(batch.map((step) => replaceReplica(op, step, ctx)));
    const fresh: Swapped[] = [];
    results.forEach((r, j) => {
      if (r instanceof RolloutFailure) failed.push({ step: batch[j]!, error: r });
      else fresh.push(r);
    });
    replaced.push(...fresh);
    if (update.monitorMs > 0 && fresh.length > 0) {
      for (const bad of await monitor(fresh, update.monitorMs, ctx)) {
        replaced.splice(replaced.indexOf(bad.swapped), 1);
        const undo = await restoreReplica(bad.swapped, op.strategy, ctx);
        failed.push({ step: bad.swapped.step, error: RolloutFailure.from(bad.error, op.strategy, true, undo) });
      }
    }
    if (failed.length > 0 && !tolerated() && update.failureAction !== 'continue') break;
  }

  if (failed.length === 0 || tolerated()) {
    await retireOld(replaced, ctx);
    if (failed.length > 0) notes.push(`${failed.map((f) => `#${f.step.replica}`).join(', ')} failed and kept the old revision (within max_failure_ratio ${update.maxFailureRatio})`);
    notes.push(`${replaced.length} of ${op.steps.length} replicas replaced, ${size >= op.steps.length ? 'all at once' : `${size} at a time`}`);
    return { strategy: op.strategy, result: 'succeeded', notes };
  }

  const first = failed[0]!;
  const what = `${op.object}: replica #${first.step.replica} ${first.error.message}`;
  if (update.failureAction === 'rollback') {
    const errors: string[] = [];
    for (const s of [...replaced].reverse()) {
      ctx.progress(`rolling back ${s.step.containerName}`);
      const err = await restoreReplica(s, op.strategy, ctx);
      if (err) errors.push(`${s.step.containerName}: ${err}`);
    }
    const back = replaced.length > 0 ? `; rolled back ${replaced.map((s) => `#${s.step.replica}`).join(', ')}` : '';
    const rolledBack = failed.every((f) => f.error.rolledBack) && errors.length === 0;
    throw new RolloutFailure(`${what}${back}${errors.length ? `; restoring failed: ${errors.join('; ')}` : ''}`, op.strategy, first.error.gate, first.error.lastHealthOutput, rolledBack);
  }
  // pause / continue beyond the ratio: what was replaced stays replaced; the service runs two revisions until the next change.
  await retireOld(replaced, ctx);
  const mixed = `${replaced.length} of ${op.steps.length} replicas run the new revision`;
  const how = update.failureAction === 'pause' ? 'paused (update_config.failure_action: pause)' : 'continued (update_config.failure_action: continue)';
  throw new RolloutFailure(`${what}; ${how}; ${mixed}`, op.strategy, first.error.gate, first.error.lastHealthOutput, false);
}

/** One replica through the one-container rollout, keeping its old container; a failure comes back as a value (that replica already restored). */
async function replaceReplica(op: ServiceRollingOp, step: ReplicaStep, ctx: RollingContext): Promise<Swapped | RolloutFailure> {
  const spec = replicaSpec(op.service, step.replica);
  const rctx: RolloutContext = { ...ctx, labels: ctx.labels(spec), progress: (m) => ctx.progress(`#${step.replica}: ${m}`) };
  const swap = op.strategy === 'start-first' ? startFirstSwap : recreateSwap;
  try {
    const { newId } = await swap({ service: spec, old: step.old }, rctx, true);
    return { step, spec, newId };
  } catch (e) {
    return e instanceof RolloutFailure ? e : RolloutFailure.from(e, op.strategy, false, null);
  }
}

/** `update_config.monitor`: after the wait, each new replica must still be running, not unhealthy, not restarted. */
async function monitor(fresh: Swapped[], ms: number, ctx: RollingContext): Promise<{ swapped: Swapped; error: GateError }[]> {
  ctx.progress(`monitoring ${fresh.map((s) => `#${s.step.replica}`).join(', ')} for ${ms / 1000}s (update_config.monitor)`);
  const before = new Map<Swapped, number>();
  for (const s of fresh) before.set(s, (await ctx.docker.inspectContainer(s.newId)).restartCount);
  await ctx.clock.sleep(ms, ctx.signal);
  const out: { swapped: Swapped; error: GateError }[] = [];
  for (const s of fresh) {
    const c = await ctx.docker.inspectContainer(s.newId);
    if (!c.running || c.restartCount > before.get(s)! || c.health === 'unhealthy') {
      const state = !c.running ? `exited with code ${c.exitCode}` : c.health === 'unhealthy' ? 'became unhealthy' : 'restarted';
      out.push({ swapped: s, error: new GateError(`the new container ${state} during update_config.monitor`, 'monitor', c.lastHealthOutput) });
    }
  }
  return out;
}

/** The whole service moved: the kept old containers go. */
async function retireOld(replaced: Swapped[], ctx: RollingContext): Promise<void> {
  for (const s of replaced) await ctx.docker.removeContainer(s.step.old.id, true);
}

/**
 * Bring a replaced replica's old container back. start-first: the old one
 * rejoins its networks and starts beside the new one, proves itself ready,
 * then the new one is drained and removed (no gap). recreate: the new one
 * stops first. Returns an error message, or null when the old one serves again.
 * Not cut short by a shutdown request: a half-restored replica is worse than a late exit.
 */
async function restoreReplica(s: Swapped, strategy: ServiceRollingOp['strategy'], ctx: RollingContext): Promise<string | null> {
  const { docker, clock, settings } = ctx;
  const oldId = s.step.old.id;
  const canonical = s.step.containerName;
  try {
    if (strategy === 'recreate') {
      await docker.removeContainer(s.newId, true);
      await docker.renameContainer(oldId, canonical);
      await docker.startContainer(oldId);
      await waitReady(oldId, s.spec, { docker, clock, timeoutMs: settings.rollout.healthTimeoutSeconds * 1000 });
      return null;
    }
    const old = await docker.inspectContainer(oldId);
    if (s.spec.networkMode === null) {
      for (const n of s.spec.networks) {
        if (old.networks.includes(n.name)) continue;
        await docker.connectNetwork(n.name, oldId, { aliases: [...n.aliases, s.spec.name], ipv4Address: n.ipv4Address, ipv6Address: n.ipv6Address });
      }
    }
    await docker.startContainer(oldId);
    await waitReady(oldId, s.spec, { docker, clock, timeoutMs: settings.rollout.healthTimeoutSeconds * 1000 });
    const fresh = await docker.inspectContainer(s.newId);
    for (const network of fresh.networks) await docker.disconnectNetwork(network, s.newId);
    if (fresh.networks.length > 0 && fresh.running) await clock.sleep(settings.rollout.drainSeconds * 1000);
    await docker.stopContainer(s.newId);
    await docker.removeContainer(s.newId, true);
    await docker.renameContainer(oldId, canonical);
    return null;
  } catch (e) {
    return `${(e as Error).message} (the old container is ${canonical}${RETIRED_SUFFIX} or ${canonical})`;
  }
}
