import type { OpResult } from '../apply/apply.js';
import { loadDesiredState } from '../compose/load.js';
import type { YamlSource } from '../compose/yaml-source.js';
import type { Finding } from '../lint/finding.js';
import { counts, lint } from '../lint/lint.js';
import { renderLintBlock } from '../lint/render.js';
import { reconcile } from '../loop/reconcile.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic, Location } from '../model/errors.js';
import type { Op, PlanError } from '../model/plan.js';
import { renderPlanJson, renderPlanText } from '../plan/render.js';
import { isRemoteRepo, type DesiredSource } from '../ports/git.js';
import { resolveSource, type CliContext } from './context.js';
import { refuseOnLintErrors } from './lint.js';
import { planErrorDiagnostics } from './plan-error-diagnostics.js';
import { desiredStateLine, repoWhere } from './repo-line.js';
import { renderDiagnostic } from './render-diagnostics.js';

export interface PlanOptions {
  repo: string;
  branch: string;
  json?: boolean;
}

/** Print validation problems of an invalid desired state (exit 1, nothing changed). */
function reportInvalid(ctx: CliContext, diagnostics: Diagnostic[], json: boolean | undefined): void {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (json) ctx.io.out(JSON.stringify({ valid: false, errors }, null, 2));
  else for (const d of errors) ctx.io.err(renderDiagnostic(d));
  ctx.io.err(`invalid desired state: ${errors.length} ${errors.length === 1 ? 'error' : 'errors'}; nothing was changed`);
}

/**
 * Load, validate and lint before Docker is touched. null (exit 1, nothing
 * changed) when the desired state is invalid or a rule that berth.yaml lists
 * under `lint.errors` fired; otherwise the state goes to reconcile preloaded,
 * so it is read once.
 */
function prepare(
  ctx: CliContext,
  source: DesiredSource,
  json: boolean | undefined,
): { desired: DesiredState; findings: Finding[]; sources: ReadonlyMap<string, YamlSource> } | null {
  const loaded = loadDesiredState(source.dir, { env: ctx.io.env, validators: ctx.validators });
  if (!loaded.state) {
    reportInvalid(ctx, loaded.diagnostics, json);
    return null;
  }
  if (!json) for (const d of loaded.diagnostics) ctx.io.err(renderDiagnostic(d));
  const findings = lint(loaded.state, { positions: loaded.sources });
  if (refuseOnLintErrors(ctx.io, findings, json)) return null;
  return { desired: loaded.state, findings, sources: loaded.sources };
}

/** `berth plan`: 0 in sync · 2 changes pending · 1 error. */
export async function runPlan(ctx: CliContext, opts: PlanOptions): Promise<number> {
  const source = await resolveSource(ctx, opts.repo, opts.branch);
  const ready = prepare(ctx, source, opts.json);
  if (!ready) return 1;
  const r = await reconcile(source, { docker: await ctx.docker(), state: ctx.state, clock: ctx.clock, env: ctx.io.env }, 'plan', ready.desired);
  const plan = r.plan!;
  // Lint findings are warnings here: they never change the plan or its exit code.
  const findings = ready.findings;
  const remote = isRemoteRepo(opts.repo);
  const located = planErrorDiagnostics(ready.desired, ready.sources, plan.errors);
  if (opts.json) {
    const errors = jsonErrors(plan.errors, located);
    ctx.io.out(JSON.stringify({ repo: repoWhere(source, remote), ...renderPlanJson(plan), errors, ...(findings.length > 0 ? { lint: { ...counts(findings), findings } } : {}) }, null, 2));
  } else {
    ctx.io.out([desiredStateLine(source, remote), '', renderPlanText(plan).replace(/\n$/, ''), ...(findings.length > 0 ? ['', ...renderLintBlock(findings)] : [])].join('\n'));
    // The plan names each error's object; these say where it is declared.
    for (const d of located) ctx.io.err(renderDiagnostic(d));
  }
  if (plan.errors.length > 0) return 1;
  return plan.ops.length === 0 ? 0 : 2;
}

/** `berth apply`: 0 converged · 1 failed (what failed, what was left as it was). */
export async function runApply(ctx: CliContext, opts: PlanOptions): Promise<number> {
  const source = await resolveSource(ctx, opts.repo, opts.branch);
  const rev = source.revision ? source.revision.slice(0, 12) : 'the working tree';
  const ready = prepare(ctx, source, opts.json);
  if (!ready) return 1;
  if (!opts.json) for (const line of renderLintBlock(ready.findings)) ctx.io.err(line);
  let width = 0;
  const r = await reconcile(
    source,
    {
      docker: await ctx.docker(),
      state: ctx.state,
      clock: ctx.clock,
      env: ctx.io.env,
      bake: ctx.bake,
      reporter: opts.json
        ? undefined
        : {
            planned: (plan) => {
              width = Math.max(0, ...plan.ops.map((o) => o.object.length));
              ctx.io.out(`Applying ${rev}: ${plan.ops.length} ${plan.ops.length === 1 ? 'change' : 'changes'}`);
            },
            progress: (op, message) => ctx.io.out(`  … ${op.object.padEnd(width)}  ${message}`),
            finished: (op, res) => ctx.io.out(opLine(op, res, width)),
          },
    },
    'apply',
    ready.desired,
  );
  const plan = r.plan!;
  if (plan.errors.length > 0) {
    const located = planErrorDiagnostics(ready.desired, ready.sources, plan.errors);
    if (opts.json) ctx.io.out(JSON.stringify({ ...renderPlanJson(plan), errors: jsonErrors(plan.errors, located), result: 'refused' }, null, 2));
    else for (const d of located) ctx.io.err(renderDiagnostic(d));
    ctx.io.err('the plan has errors; nothing was changed');
    return 1;
  }
  if (r.outcome === 'in-sync') {
    if (opts.json) ctx.io.out(JSON.stringify({ revision: source.revision, result: 'in-sync', summary: plan.summary, ops: [] }, null, 2));
    else ctx.io.out(`No changes. The host matches the desired state (${rev}).`);
    return 0;
  }
  const result = r.apply!;
  const failed = result.results.filter((x) => x.status !== 'ok');
  if (opts.json) {
    ctx.io.out(JSON.stringify({ revision: source.revision, result: r.outcome, durationMs: result.durationMs, summary: plan.summary, ops: result.results }, null, 2));
    return result.ok ? 0 : 1;
  }
  const secs = (result.durationMs / 1000).toFixed(1);
  if (result.ok) {
    const s = plan.summary;
    ctx.io.out(`Apply complete (${rev}) in ${secs}s: ${s.create} created, ${s.recreate} recreated, ${s.update} updated, ${s.remove} removed.`);
    return 0;
  }
  ctx.io.err(`Apply failed (${rev}) in ${secs}s: ${failed.filter((x) => x.status === 'failed').length} failed, ${failed.filter((x) => x.status === 'skipped').length} skipped.`);
  for (const x of failed) ctx.io.err(`  ${x.status === 'failed' ? '✗' : '·'} ${x.object}: ${outcomeWord(x)}: ${x.error ?? x.status}`);
  if (failed.some((x) => x.rollout?.result === 'failed')) {
    ctx.io.err('A rollout could not be rolled back cleanly (see above): that service needs a look.');
  }
  ctx.io.err('Everything not listed above was applied; failed and skipped objects were left as they were.');
  return 1;
}

/** Plan errors in --json: the fields they always had, plus where each is declared. */
function jsonErrors(errors: PlanError[], located: Diagnostic[]): (PlanError & Location)[] {
  return errors.map((e, i) => ({ code: e.code, stack: e.stack, object: e.object, message: e.message, file: located[i]!.file, line: located[i]!.line, col: located[i]!.col }));
}

const SIGN: Record<Op['action'], string> = { create: '+', recreate: '~', update: '~', start: '~', remove: '-' };

function opLine(op: Op, r: OpResult, width: number): string {
  const secs = `${(r.durationMs / 1000).toFixed(1)}s`;
  if (r.status === 'ok') return `  ${SIGN[op.action]} ${op.object.padEnd(width)}  ${pastTense(op)} (${secs})`;
  return `  ✗ ${op.object.padEnd(width)}  ${outcomeWord(r)}: ${r.error ?? ''}`;
}

/** `rolled back (unhealthy)` says more than `failed` when the old container is serving again. */
function outcomeWord(r: OpResult): string {
  if (r.rollout?.result === 'rolled_back') return `rolled back (${r.rollout.gate})`;
  if (r.rollout?.result === 'failed') return `failed, NOT rolled back (${r.rollout.gate})`;
  return r.status;
}

function pastTense(op: Op): string {
  switch (op.kind) {
    case 'network.create':
    case 'volume.create':
    case 'service.create':
      return 'created';
    case 'network.recreate':
    case 'service.recreate':
      return 'recreated';
    case 'service.start':
      return 'started';
    case 'service.connect':
      return 'networks updated';
    case 'network.remove':
    case 'service.remove':
    case 'container.cleanup':
      return 'removed';
  }
}
