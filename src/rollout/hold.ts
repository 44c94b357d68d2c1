import type { Op, Plan } from '../model/plan.js';
import { summarize } from '../plan/build-plan.js';

/**
 * A revision whose rollout of a service was rolled back is not rolled out
 * again until a new commit arrives (PRODUCT.md §5): no redeploy loop. The
 * controller passes the services held for the current revision; their
 * replacement ops leave the plan (with a warning), while drift repairs of
 * the old container — a start, a reconnect — still happen.
 */
export function withoutHeldRollouts(plan: Plan, hold: ReadonlySet<string> | undefined): { plan: Plan; held: Op[] } {
  if (!hold || hold.size === 0) return { plan, held: [] };
  const isHeld = (op: Op) => op.kind === 'service.recreate' && hold.has(`${op.stack}/${op.service.name}`);
  const held = plan.ops.filter(isHeld);
  if (held.length === 0) return { plan, held };
  const heldIds = new Set(held.map((op) => op.id));
  const ops = plan.ops.filter((op) => !heldIds.has(op.id)).map((op) => ({ ...op, after: op.after.filter((id) => !heldIds.has(id)) }) as Op);
  const warnings = [
    ...plan.warnings,
    ...held.map((op) => `${op.object}: its rollout at this revision was rolled back; not retried until a new commit (would ${op.action}: ${op.reasons.join('; ')})`),
  ];
  return { plan: { ...plan, ops, warnings, summary: summarize(ops) }, held };
}
