import { buildAppliedRecord } from '../apply/applied-record.js';
import { detectDrift } from '../drift/detect.js';
import { serviceReplicas } from '../drift/replica-status.js';
import { LABEL } from '../labels.js';
import type { AppliedRecord } from '../model/applied.js';
import { observe } from '../observe/observe.js';
import { loadSource, type CliContext, type LoadedSource } from './context.js';
import { onRecordedHosts, onTargets } from './targets.js';
import { renderDiagnostic } from './render-diagnostics.js';
import { driftOnSwarm, statusOnSwarm } from './swarm.js';

export interface DriftOptions {
  repo?: string;
  branch: string;
  json?: boolean;
  host?: string;
}

/**
 * `berth drift`: 0 none · 2 found · 1 error. The baseline is the last
 * applied record (so it works without the repository); before anything was
 * applied, the repository's desired state (`--repo`, default `.`).
 */
export async function runDrift(ctx: CliContext, opts: DriftOptions): Promise<number> {
  // With berth.yaml `hosts:`, each host against its own record (the repository names the hosts; else the recorded ones).
  if (opts.repo !== undefined) {
    const loaded = await loadSource(ctx, opts.repo, opts.branch);
    if (loaded.desired && loaded.desired.settings.hosts.length > 0) {
      const desired = loaded.desired;
      return onTargets(ctx, desired, opts, (tctx, part, target) => (target.spec?.mode === 'swarm' ? driftOnSwarm(tctx, opts.json) : driftOn(tctx, opts, { ...loaded, desired: part })));
    }
    if (loaded.desired) return driftOn(ctx, opts, loaded);
  }
  return onRecordedHosts(ctx, opts, (tctx, spec) => (spec?.mode === 'swarm' ? driftOnSwarm(tctx, opts.json) : driftOn(tctx, opts, null)));
}

async function driftOn(ctx: CliContext, opts: DriftOptions, preloaded: LoadedSource | null): Promise<number> {
  let baseline: AppliedRecord | null = await ctx.state.readApplied();
  if (!baseline) {
    const { source, desired, diagnostics } = preloaded ?? (await loadSource(ctx, opts.repo ?? '.', opts.branch));
    if (!desired) {
      for (const d of diagnostics.filter((x) => x.severity === 'error')) ctx.io.err(renderDiagnostic(d));
      ctx.io.err('nothing applied yet on this host, and the repository is invalid');
      return 1;
    }
    baseline = buildAppliedRecord(desired, source.revision, source.origin, '', new Date(ctx.clock.now()));
  }
  const live = await observe(await ctx.docker());
  const items = detectDrift(baseline, live);
  if (opts.json) {
    ctx.io.out(JSON.stringify({ revision: baseline.revision, drift: items }, null, 2));
  } else if (items.length === 0) {
    ctx.io.out(`No drift: the host matches what berth applied${baseline.revision ? ` (${baseline.revision.slice(0, 12)})` : ''}.`);
  } else {
    const width = Math.max(...items.map((i) => `${i.stack}/${i.object}`.length));
    for (const i of items) ctx.io.out(`  ! ${`${i.stack}/${i.object}`.padEnd(width)}  ${i.kind} ${i.aspect}: expected ${i.expected}, found ${i.found}`);
    ctx.io.out(`Drift: ${items.length} ${items.length === 1 ? 'item' : 'items'}.`);
  }
  return items.length === 0 ? 0 : 2;
}

/** `berth status`: applied revision and, per stack, each service's state and health. */
export async function runStatus(ctx: CliContext, opts: { json?: boolean; host?: string }): Promise<number> {
  return onRecordedHosts(ctx, opts, (tctx, spec) => (spec?.mode === 'swarm' ? statusOnSwarm(tctx, opts.json) : statusOn(tctx, opts)));
}

async function statusOn(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const applied = await ctx.state.readApplied();
  const history = await ctx.state.readHistory(1);
  const live = await observe(await ctx.docker());
  const byName = new Map(live.containers.map((c) => [c.name, c]));
  const stacks = (applied?.stacks ?? []).map((s) => ({
    name: s.name,
    services: s.services.map((svc) => {
      const c = byName.get(svc.containerName);
      const scaled = serviceReplicas(svc, byName);
      return {
        name: svc.name,
        container: svc.containerName,
        image: svc.image,
        tier: svc.berth.tier,
        state: c ? c.state : 'missing',
        health: c?.health ?? null,
        status: c?.status ?? null,
        inSync: scaled.replicas.every((r) => byName.get(r.container)?.labels[LABEL.configHash] === svc.configHash),
        replicas: { desired: scaled.desired, running: scaled.running, containers: scaled.replicas },
      };
    }),
  }));
  const last = history[0] ?? null;
  if (opts.json) {
    ctx.io.out(JSON.stringify({ revision: applied?.revision ?? null, appliedAt: applied?.appliedAt ?? null, source: applied?.source ?? null, lastResult: last, stacks }, null, 2));
    return 0;
  }
  if (!applied) {
    ctx.io.out('Nothing applied yet on this host (no record in the state dir).');
    return 0;
  }
  ctx.io.out(`Applied revision: ${applied.revision ?? '(not a git checkout)'} at ${applied.appliedAt} from ${applied.source}`);
  if (last) ctx.io.out(`Last apply: ${last.result} at ${last.at}${last.failed.length ? ` (failed: ${last.failed.join(', ')})` : ''}`);
  for (const s of stacks) {
    ctx.io.out(`\n${s.name}`);
    const width = Math.max(...s.services.map((x) => x.name.length), 4);
    for (const x of s.services) {
      const health = x.health ? ` (${x.health})` : '';
      const state = x.replicas.desired === 1 ? `${x.state}${health}` : `${x.replicas.running}/${x.replicas.desired} running`;
      ctx.io.out(`  ${x.name.padEnd(width)}  ${state}${x.inSync ? '' : '  [differs from the applied spec]'}  ${x.image}`);
    }
  }
  return 0;
}
