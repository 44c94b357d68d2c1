import { applyPlan, type ApplyReporter, type ApplyResult, type ReplaceContainer } from '../apply/apply.js';
import { buildAppliedRecord, mergeAppliedRecord } from '../apply/applied-record.js';
import { loadDesiredState } from '../compose/load.js';
import type { Validators } from '../compose/schema.js';
import type { AppliedRecord } from '../model/applied.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { LiveState } from '../model/live.js';
import type { Op, Plan } from '../model/plan.js';
import { observe } from '../observe/observe.js';
import { buildPlan } from '../plan/build-plan.js';
import { withoutDriftRepairs } from '../drift/self-heal.js';
import { withoutHeldRollouts } from '../rollout/hold.js';
import { EMPTY_IMAGE_LEDGER, imagesToPrune, recordApplied, type ImageLedger } from '../images/retention.js';
import type { BakeGate } from '../rollout/types.js';
import type { Clock } from '../ports/clock.js';
import type { DockerPort } from '../ports/docker.js';
import type { DesiredSource } from '../ports/git.js';
import type { StateStore } from '../ports/state.js';

/**
 * One pass of observe → plan → (apply): the unit of work of `berth plan`,
 * `berth apply` and every loop of `berth run`. Returns what happened as data;
 * callers decide how to print, log, count or notify it.
 */
export interface ReconcileDeps {
  docker: DockerPort;
  state: StateStore;
  clock: Clock;
  env: Record<string, string | undefined>;
  validators?: Validators;
  reporter?: ApplyReporter;
  signal?: AbortSignal;
  replace?: ReplaceContainer;
  /** The Traefik bake gate for start-first rollouts (built by the caller from berth.yaml `traefik`). */
  bake?: (desired: DesiredState) => BakeGate | undefined;
  /** `<stack>/<service>` whose rollout at this revision was rolled back: not retried (the controller's rule). */
  hold?: ReadonlySet<string>;
  concurrency?: number;
}

export type ReconcileOutcome = 'invalid' | 'plan-error' | 'in-sync' | 'changes-pending' | 'converged' | 'failed';

export interface ReconcileResult {
  outcome: ReconcileOutcome;
  source: DesiredSource;
  diagnostics: Diagnostic[];
  desired: DesiredState | null;
  live: LiveState | null;
  applied: AppliedRecord | null;
  plan: Plan | null;
  /** Drift repairs left out because self-heal is off for their object. */
  held: Op[];
  apply: ApplyResult | null;
  durationMs: number;
}

/**
 * `preloaded`: a desired state loaded earlier from `source` (the controller
 * keeps the last good one in memory: the checkout on disk may already hold a
 * newer, invalid commit).
 */
export async function reconcile(source: DesiredSource, deps: ReconcileDeps, mode: 'plan' | 'apply', preloaded?: DesiredState): Promise<ReconcileResult> {
  const t0 = deps.clock.now();
  const base = { source, live: null, applied: null, plan: null, held: [] as Op[], apply: null };
  const { state: desired, diagnostics } = preloaded
    ? { state: preloaded, diagnostics: [] as Diagnostic[] }
    : loadDesiredState(source.dir, { env: deps.env, validators: deps.validators });
  if (!desired) return { ...base, outcome: 'invalid', diagnostics, desired: null, durationMs: deps.clock.now() - t0 };

  const [live, applied] = await Promise.all([observe(deps.docker), deps.state.readApplied()]);
  const repairs = withoutDriftRepairs(buildPlan(desired, live, applied, source.revision), desired, applied);
  const rollouts = withoutHeldRollouts(repairs.plan, deps.hold, live);
  const plan = rollouts.plan;
  const held = [...repairs.held, ...rollouts.held];
  const done = (outcome: ReconcileOutcome, apply: ApplyResult | null = null): ReconcileResult => ({
    outcome,
    source,
    diagnostics,
    desired,
    live,
    applied,
    plan,
    held,
    apply,
    durationMs: deps.clock.now() - t0,
  });
  if (plan.errors.length > 0) return done('plan-error');
  if (mode === 'plan') return done(plan.ops.length === 0 ? 'in-sync' : 'changes-pending');

  const release = await deps.state.lock();
  try {
    const salt = await deps.state.salt();
    const full = buildAppliedRecord(desired, source.revision, source.origin, salt, new Date(deps.clock.now()));
    // Held services still run what was applied before; the record must say so (or drift would flag them).
    const heldServices = new Set(rollouts.held.map((op) => op.object));
    const record = heldServices.size > 0 ? mergeAppliedRecord(applied, full, heldServices) : full;
    if (plan.ops.length === 0) {
      // Record even a no-op so drift and status have a baseline for this revision.
      if (!applied || applied.revision !== record.revision || JSON.stringify(applied.stacks) !== JSON.stringify(record.stacks)) {
        await deps.state.writeApplied(record);
      }
      return done('in-sync');
    }
    const result = await applyPlan(plan, {
      docker: deps.docker,
      clock: deps.clock,
      desired,
      settings: desired.settings,
      revision: source.revision,
      reporter: deps.reporter,
      signal: deps.signal,
      replace: deps.replace,
      bake: deps.bake?.(desired),
      concurrency: deps.concurrency,
    });
    await deps.state.writeApplied(result.ok ? record : mergeAppliedRecord(applied, record, new Set([...result.notApplied, ...heldServices])));
    await retainImages(deps, desired, live, source.revision, result.pulled);
    await deps.state.appendHistory({
      at: new Date(deps.clock.now()).toISOString(),
      revision: source.revision,
      result: result.ok ? 'converged' : 'failed',
      summary: plan.summary,
      failed: result.results.filter((r) => r.status !== 'ok').map((r) => r.id),
      durationMs: result.durationMs,
    });
    return done(result.ok ? 'converged' : 'failed', result);
  } finally {
    await release();
  }
}

/**
 * Image retention after an apply: remember this revision's images and what
 * berth pulled; with `images.prune`, remove pulled images that neither the
 * last `keepRevisions` revisions nor any container use. A failure here is
 * logged by the caller's outcome, never fatal to the apply.
 */
async function retainImages(deps: ReconcileDeps, desired: DesiredState, live: LiveState, revision: string | null, pulled: string[]): Promise<void> {
  const { keepRevisions, prune } = desired.settings.images;
  const images = desired.stacks.flatMap((s) => s.services.map((svc) => svc.image));
  const before = (await deps.state.readJson<ImageLedger>('images.json').catch(() => null)) ?? EMPTY_IMAGE_LEDGER;
  let ledger = recordApplied(before, revision, images, pulled, keepRevisions);
  if (prune) {
    const inUse = [...images, ...live.containers.map((c) => c.image)];
    const removed = new Set<string>();
    for (const ref of imagesToPrune(ledger, keepRevisions, inUse)) {
      // false: a container uses it (kept for a later pass) or it is gone already.
      const ok = await deps.docker.removeImage(ref).catch(() => false);
      if (ok) removed.add(ref);
    }
    ledger = { ...ledger, pulled: ledger.pulled.filter((r) => !removed.has(r)) };
  }
  await deps.state.writeJson('images.json', ledger);
}
