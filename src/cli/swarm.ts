import { readFile } from 'node:fs/promises';
import type { DesiredState } from '../model/desired.js';
import { identifiedDesired } from '../files/identify.js';
import type { DesiredSource } from '../ports/git.js';
import type { SwarmPort } from '../ports/swarm.js';
import { applySwarm, materialContent, type SwarmOpResult } from '../swarm/apply.js';
import type { SwarmOp, SwarmPlan } from '../swarm/plan.js';
import { driftOnManager, planOnManager, readSwarmApplied, recordSwarmApplied } from '../swarm/host.js';
import { pendingOps, renderSwarmPlan, swarmSummary } from '../swarm/render.js';
import { LABEL } from '../labels.js';
import { liveShape } from '../swarm/engine-spec.js';
import type { CliContext } from './context.js';

/**
 * `berth plan` / `berth apply` on a `mode: swarm` host: observe the manager
 * (berth's services, swarm networks), plan with src/swarm/plan.ts, apply with
 * its gates. Exit codes as on one host: plan 0 in sync · 2 changes · 1 error;
 * apply 0 converged · 1 failed (failed updates rolled back).
 */
async function observed(ctx: CliContext, loaded: DesiredState, source: DesiredSource): Promise<{ swarm: SwarmPort; plan: SwarmPlan; desired: DesiredState }> {
  if (!ctx.swarm) throw new Error('no swarm port for this host');
  // Content identity of the configs/secrets files: their swarm objects are named by it.
  const identified = await identifiedDesired(loaded, source, ctx.files.git, ctx.files.hasher);
  if (!identified.desired) throw new Error(`the repository's files could not be identified: ${identified.diagnostics.map((d) => d.message).join('; ')}`);
  const desired = identified.desired;
  const swarm = await ctx.swarm();
  return { swarm, desired, plan: await planOnManager(swarm, desired) };
}

function opsJson(ops: SwarmOp[]) {
  return ops.map((o) => ({ id: o.id, kind: o.kind, wave: o.wave, stack: o.stack, object: o.object, reasons: o.reasons, ...(o.kind === 'service.update' ? { drift: o.drift, held: o.held } : {}) }));
}

export async function planOnSwarm(ctx: CliContext, loaded: DesiredState, source: DesiredSource, json: boolean | undefined): Promise<number> {
  const { plan } = await observed(ctx, loaded, source);
  if (json) ctx.io.out(JSON.stringify({ swarm: true, summary: swarmSummary(plan), ops: opsJson(plan.ops), errors: plan.errors, warnings: plan.warnings }, null, 2));
  else ctx.io.out(renderSwarmPlan(plan));
  if (plan.errors.length > 0) return 1;
  return pendingOps(plan).length === 0 ? 0 : 2;
}

export async function applyOnSwarm(ctx: CliContext, loaded: DesiredState, source: DesiredSource, json: boolean | undefined): Promise<number> {
  const rev = source.revision ? source.revision.slice(0, 12) : 'the working tree';
  const t0 = ctx.clock.now();
  const { swarm, plan, desired } = await observed(ctx, loaded, source);
  if (plan.errors.length > 0) {
    if (json) ctx.io.out(JSON.stringify({ swarm: true, result: 'refused', errors: plan.errors }, null, 2));
    else for (const e of plan.errors) ctx.io.err(`error: ${e.object}: ${e.message}`);
    ctx.io.err('the plan has errors; nothing was changed');
    return 1;
  }
  const width = Math.max(0, ...plan.ops.map((o) => o.object.length));
  if (pendingOps(plan).length === 0) {
    for (const op of plan.ops) ctx.io.out(`  ! ${op.object.padEnd(width)}  drift reported, not undone (selfHeal off): ${op.reasons.join('; ')}`);
    if (json) ctx.io.out(JSON.stringify({ swarm: true, revision: source.revision, result: 'in-sync', ops: opsJson(plan.ops) }, null, 2));
    else ctx.io.out(`No changes. The swarm matches the desired state (${rev}).`);
    await recordSwarmApplied(swarm, ctx.state, desired, source.revision);
    return 0;
  }
  if (!json) ctx.io.out(`Applying ${rev}: ${pendingOps(plan).length} ${pendingOps(plan).length === 1 ? 'change' : 'changes'}`);
  const result = await applySwarm(plan, {
    swarm,
    clock: ctx.clock,
    readFile: (path) => readFile(path),
    material: materialContent(desired),
    revision: source.revision,
    timeoutMs: desired.settings.rollout.healthTimeoutSeconds * 1000,
    bake: ctx.swarmBake(desired),
    progress: json ? undefined : (op, message) => ctx.io.out(`  … ${op.object.padEnd(width)}  ${message}`),
    report: json ? undefined : (op, r) => ctx.io.out(resultLine(op, r, width)),
  });
  await recordSwarmApplied(swarm, ctx.state, desired, source.revision);
  const secs = ((ctx.clock.now() - t0) / 1000).toFixed(1);
  if (json) {
    ctx.io.out(JSON.stringify({ swarm: true, revision: source.revision, result: result.ok ? 'applied' : 'failed', ops: result.results.map((r) => ({ ...opsJson([r.op])[0], ...r.outcome })) }, null, 2));
    return result.ok ? 0 : 1;
  }
  if (result.ok) {
    const s = swarmSummary(plan);
    ctx.io.out(`Apply complete (${rev}) in ${secs}s: ${s.create} created, ${s.update} updated, ${s.remove} removed.`);
    return 0;
  }
  const bad = result.results.filter((r) => r.outcome.result === 'failed' || r.outcome.result === 'rolled-back' || r.outcome.result === 'skipped');
  ctx.io.err(`Apply failed (${rev}) in ${secs}s: ${bad.filter((r) => r.outcome.result !== 'skipped').length} failed, ${bad.filter((r) => r.outcome.result === 'skipped').length} skipped.`);
  for (const r of bad) ctx.io.err(`  ${r.outcome.result === 'skipped' ? '·' : '✗'} ${r.op.object}: ${r.outcome.result}: ${r.outcome.message}`);
  return 1;
}


/** `berth drift` on a swarm host: 0 none · 2 found (against what berth applied there). */
export async function driftOnSwarm(ctx: CliContext, json: boolean | undefined): Promise<number> {
  const record = await readSwarmApplied(ctx.state);
  if (!record) {
    ctx.io.out('Nothing applied to this swarm yet (no record in the state dir): no baseline for drift.');
    return 0;
  }
  if (!ctx.swarm) throw new Error('no swarm port for this host');
  const items = await driftOnManager(await ctx.swarm(), record);
  if (json) ctx.io.out(JSON.stringify({ revision: record.revision, drift: items }, null, 2));
  else if (items.length === 0) ctx.io.out(`No drift: the swarm matches what berth applied${record.revision ? ` (${record.revision.slice(0, 12)})` : ''}.`);
  else {
    const width = Math.max(...items.map((i) => i.object.length));
    for (const i of items) ctx.io.out(`  ! ${i.object.padEnd(width)}  service ${i.aspect}: expected ${i.expected}, found ${i.found}`);
    ctx.io.out(`Drift: ${items.length} ${items.length === 1 ? 'item' : 'items'}.`);
  }
  return items.length === 0 ? 0 : 2;
}

/** `berth status` on a swarm host: what berth applied there and, per service, its tasks. */
export async function statusOnSwarm(ctx: CliContext, json: boolean | undefined): Promise<number> {
  const record = await readSwarmApplied(ctx.state);
  if (!record) {
    ctx.io.out(json ? JSON.stringify({ revision: null, stacks: [] }, null, 2) : 'Nothing applied to this swarm yet (no record in the state dir).');
    return 0;
  }
  if (!ctx.swarm) throw new Error('no swarm port for this host');
  const swarm = await ctx.swarm();
  const live = new Map((await swarm.listServices()).map((s) => [s.name, s]));
  const services = await Promise.all(
    record.services.map(async (r) => {
      const s = live.get(r.name);
      const tasks = s ? (await swarm.listTasks(s.id)).filter((t) => t.desiredState === 'running') : [];
      const shape = s ? liveShape(s.spec, new Map()) : null;
      return {
        stack: r.stack,
        name: r.service,
        service: r.name,
        image: shape?.image ?? null,
        state: s ? 'present' : 'missing',
        replicas: { desired: shape ? (shape.mode === 'global' ? tasks.length : shape.mode.replicated) : 0, running: tasks.filter((t) => t.state === 'running').length },
        inSync: s?.labels[LABEL.configHash] === r.configHash,
      };
    }),
  );
  if (json) {
    ctx.io.out(JSON.stringify({ revision: record.revision, services }, null, 2));
    return 0;
  }
  ctx.io.out(`Applied revision: ${record.revision ?? '(not a git checkout)'}`);
  const width = Math.max(4, ...services.map((x) => x.service.length));
  for (const x of services) ctx.io.out(`  ${x.service.padEnd(width)}  ${x.state === 'missing' ? 'missing' : `${x.replicas.running}/${x.replicas.desired} running`}${x.inSync ? '' : '  [differs from the applied spec]'}  ${x.image ?? ''}`);
  return 0;
}

function resultLine(op: SwarmOp, r: SwarmOpResult, width: number): string {
  const sign = r.result === 'ok' ? (op.kind.endsWith('.remove') ? '-' : op.kind === 'service.update' ? '~' : '+') : r.result === 'held' ? '!' : r.result === 'skipped' ? '·' : '✗';
  return `  ${sign} ${op.object.padEnd(width)}  ${r.result === 'ok' ? r.message : `${r.result}: ${r.message}`}`;
}
