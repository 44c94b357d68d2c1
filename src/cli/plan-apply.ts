import type { OpResult } from '../apply/apply.js';
import { loadDesiredStateWithSecrets } from '../compose/load-secrets.js';
import type { YamlSource } from '../compose/yaml-source.js';
import type { Finding } from '../lint/finding.js';
import { counts, lint } from '../lint/lint.js';
import { renderLintBlock } from '../lint/render.js';
import { renderLintSummary } from '../lint/summary.js';
import { reconcile } from '../loop/reconcile.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic, Location } from '../model/errors.js';
import type { Op, PlanError } from '../model/plan.js';
import { summarizeNotices } from '../plan/notices.js';
import { renderPlanJson, renderPlanText } from '../plan/render.js';
import { isRemoteRepo, type DesiredSource } from '../ports/git.js';
import { resolveSource, type CliContext } from './context.js';
import { onTargets } from './targets.js';
import { applyOnSwarm, planOnSwarm } from './swarm.js';
import { refuseOnLintErrors } from './lint.js';
import { planErrorDiagnostics } from './plan-error-diagnostics.js';
import { desiredStateLine, repoWhere } from './repo-line.js';
import { renderDiagnostic } from './render-diagnostics.js';
import { pullLines } from './pull-lines.js';

export interface PlanOptions {
  repo: string;
  branch: string;
  json?: boolean;
  /** plan: ask the registries about every tag (`--refresh`). */
  refresh?: boolean;
  /** `berth plan --lint=full`: every lint finding and notice below the plan, not the summary. */
  lint?: string;
  /** `--host NAME`: only that host of berth.yaml `hosts:`. */
  host?: string;
}

type Ready = { desired: DesiredState; findings: Finding[]; sources: ReadonlyMap<string, YamlSource> };

/** One host's share of the lint findings. */
function findingsOn(findings: Finding[], desired: DesiredState): Finding[] {
  const stacks = new Set(desired.stacks.map((s) => s.name));
  return findings.filter((f) => stacks.has(f.stack));
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
async function prepare(
  ctx: CliContext,
  source: DesiredSource,
  json: boolean | undefined,
): Promise<{ desired: DesiredState; findings: Finding[]; sources: ReadonlyMap<string, YamlSource> } | null> {
  const loaded = await loadDesiredStateWithSecrets(source.dir, { env: ctx.io.env, validators: ctx.validators, secrets: await ctx.secrets() });
  if (!loaded.state) {
    reportInvalid(ctx, loaded.diagnostics, json);
    return null;
  }
  if (!json) for (const d of loaded.diagnostics) ctx.io.err(renderDiagnostic(d));
  const findings = lint(loaded.state, { positions: loaded.sources });
  if (refuseOnLintErrors(ctx.io, findings, json)) return null;
  return { desired: loaded.state, findings, sources: loaded.sources };
}

/** `berth plan`: 0 in sync · 2 changes pending · 1 error. With `hosts:`, one plan per host, grouped. */
export async function runPlan(ctx: CliContext, opts: PlanOptions): Promise<number> {
  const source = await resolveSource(ctx, opts.repo, opts.branch);
  const ready = await prepare(ctx, source, opts.json);
  if (!ready) return 1;
  const perHost = ready.desired.settings.hosts.length > 0;
  if (perHost && !opts.json) ctx.io.out(desiredStateLine(source, isRemoteRepo(opts.repo)) + '\n');
  return onTargets(ctx, ready.desired, opts, (tctx, desired, target) =>
    target.spec?.mode === 'swarm' ? planOnSwarm(tctx, desired, source, opts.json) : planOn(tctx, opts, source, { ...ready, desired, findings: findingsOn(ready.findings, desired) }, !perHost),
  );
}

async function planOn(ctx: CliContext, opts: PlanOptions, source: DesiredSource, ready: Ready, repoLine: boolean): Promise<number> {
  const r = await reconcile(
    source,
    { docker: await ctx.docker(), state: ctx.state, clock: ctx.clock, env: ctx.io.env, registry: ctx.registry, refresh: opts.refresh, files: ctx.files },
    'plan',
    ready.desired,
  );
  if (r.outcome === 'invalid') {
    reportInvalid(ctx, r.diagnostics, opts.json);
    return 1;
  }
  const plan = r.plan!;
  // Lint findings are warnings here: they never change the plan or its exit code.
  const findings = ready.findings;
  const remote = isRemoteRepo(opts.repo);
  const located = planErrorDiagnostics(ready.desired, ready.sources, plan.errors);
  if (opts.json) {
    const errors = jsonErrors(plan.errors, located);
    ctx.io.out(JSON.stringify({ repo: repoWhere(source, remote), ...renderPlanJson(plan), errors, ...(findings.length > 0 ? { lint: { ...counts(findings), findings } } : {}) }, null, 2));
  } else {
    const full = opts.lint === 'full';
    const shown = full ? plan : { ...plan, warnings: summarizeNotices(plan.warnings) };
    const lintLines = full ? renderLintBlock(findings) : renderLintSummary(findings);
    ctx.io.out([...(repoLine ? [desiredStateLine(source, remote), ''] : []), renderPlanText(shown).replace(/\n$/, ''), ...(lintLines.length > 0 ? ['', ...lintLines] : [])].join('\n'));
    // The plan names each error's object; these say where it is declared.
    for (const d of located) ctx.io.err(renderDiagnostic(d));
  }
  if (plan.errors.length > 0) return 1;
  return plan.ops.length === 0 ? 0 : 2;
}

/** `berth apply`: 0 converged · 1 failed (what failed, what was left as it was). With `hosts:`, every host concurrently. */
export async function runApply(ctx: CliContext, opts: PlanOptions): Promise<number> {
  const source = await resolveSource(ctx, opts.repo, opts.branch);
  const ready = await prepare(ctx, source, opts.json);
  if (!ready) return 1;
  if (!opts.json) for (const line of renderLintSummary(ready.findings)) ctx.io.err(line);
  return onTargets(ctx, ready.desired, { ...opts, stream: true, record: true }, (tctx, desired, target) =>
    target.spec?.mode === 'swarm' ? applyOnSwarm(tctx, desired, source, opts.json) : applyOn(tctx, opts, source, { ...ready, desired }),
  );
}

async function applyOn(ctx: CliContext, opts: PlanOptions, source: DesiredSource, ready: Ready): Promise<number> {
  const rev = source.revision ? source.revision.slice(0, 12) : 'the working tree';
  let width = 0;
  const r = await reconcile(
    source,
    {
      docker: await ctx.docker(),
      state: ctx.state,
      clock: ctx.clock,
      env: ctx.io.env,
      bake: ctx.bake,
      credentials: ctx.credentials,
      registry: ctx.registry,
      secretFiles: ctx.secretFiles,
      files: ctx.files,
      // One line per build; in --json the builds are listed in the result.
      onBuild: opts.json ? undefined : (b) => ctx.io.out(`  ${b.result === 'failed' ? '✗' : '⚙'} ${b.object}  ${b.result} ${b.tag} (${(b.durationMs / 1000).toFixed(1)}s)`),
      reporter: opts.json
        ? undefined
        : {
            ...pullLines(ctx.io),
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
  if (r.outcome === 'invalid') {
    reportInvalid(ctx, r.diagnostics, opts.json);
    return 1;
  }
  const plan = r.plan!;
  if (plan.errors.length > 0) {
    const located = planErrorDiagnostics(ready.desired, ready.sources, plan.errors);
    if (opts.json) ctx.io.out(JSON.stringify({ ...renderPlanJson(plan), errors: jsonErrors(plan.errors, located), result: 'refused', ...(r.builds ? { builds: r.builds } : {}) }, null, 2));
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
    ctx.io.out(JSON.stringify({ revision: source.revision, result: r.outcome, durationMs: result.durationMs, summary: plan.summary, ...(r.builds ? { builds: r.builds } : {}), ops: result.results }, null, 2));
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
    case 'service.rolling':
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
