import type { ApplyResult } from '../apply/apply.js';
import type { Plan } from '../model/plan.js';
import type { DesiredSource } from '../ports/git.js';
import type { HistoryEntry, HistoryOp } from '../ports/state.js';

/**
 * The history line of one apply: who and what (commit), what ran (the plan's
 * ops with their outcome) and how it ended. Pure: reconcile writes it.
 */
export function buildHistoryEntry(source: DesiredSource, plan: Plan, result: ApplyResult, at: Date): HistoryEntry {
  const outcome = new Map(result.results.map((r) => [r.id, r]));
  const ops: HistoryOp[] = plan.ops.map((op) => {
    const r = outcome.get(op.id);
    return {
      id: op.id,
      wave: op.wave,
      kind: op.kind,
      action: op.action,
      object: op.object,
      reasons: op.reasons,
      // An op the apply never reached (stopped between ops) did not run.
      status: r?.status ?? 'skipped',
      durationMs: r?.durationMs ?? 0,
      ...(r?.error ? { error: r.error } : {}),
      ...(r?.rollout ? { rollout: { strategy: r.rollout.strategy, result: r.rollout.result, ...(r.rollout.gate ? { gate: r.rollout.gate } : {}) } } : {}),
    };
  });
  const opsByKind: Record<string, number> = {};
  for (const op of plan.ops) opsByKind[op.kind] = (opsByKind[op.kind] ?? 0) + 1;
  return {
    at: at.toISOString(),
    revision: source.revision,
    result: result.ok ? 'converged' : 'failed',
    summary: plan.summary,
    failed: result.results.filter((r) => r.status !== 'ok').map((r) => r.id),
    durationMs: result.durationMs,
    ...(source.subject !== undefined ? { subject: source.subject } : {}),
    ...(source.author !== undefined ? { author: source.author } : {}),
    opsByKind,
    rollbacks: ops.flatMap((o) => (o.rollout && o.rollout.result !== 'succeeded' ? [{ object: o.object, gate: o.rollout.gate ?? 'unknown', result: o.rollout.result }] : [])),
    ops,
  };
}

/** The newest entry whose revision starts with `rev` (at least 4 characters), or null. */
export function findHistoryEntry(entries: HistoryEntry[], rev: string): HistoryEntry | null {
  const want = rev.trim().toLowerCase();
  if (want.length < 4) return null;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.revision && e.revision.toLowerCase().startsWith(want)) return e;
  }
  return null;
}
