import type { LiveState } from '../model/live.js';
import type { Op, Plan, ServiceStartOp } from '../model/plan.js';
import { summarize } from '../plan/build-plan.js';

/**
 * A revision whose rollout of a service was rolled back is not rolled out
 * again until a new commit arrives (PRODUCT.md §5): no redeploy loop. The
 * controller passes the services held for the current revision; their
 * replacement ops leave the plan (with a warning). The old container is
 * still enforced as it is: stopped by hand, it is started again.
 */
export function withoutHeldRollouts(plan: Plan, hold: ReadonlySet<string> | undefined, live: LiveState): { plan: Plan; held: Op[] } {
  if (!hold || hold.size === 0) return { plan, held: [] };
  const isHeld = (op: Op) => (op.kind === 'service.recreate' || op.kind === 'service.rolling') && hold.has(`${op.stack}/${op.service.name}`);
  const held = plan.ops.filter(isHeld);
  if (held.length === 0) return { plan, held };
  const heldIds = new Set(held.map((op) => op.id));
  const ops: Op[] = [];
  for (const op of plan.ops) {
    if ((op.kind === 'service.recreate' || op.kind === 'service.rolling') && heldIds.has(op.id)) {
      const replaced = op.kind === 'service.recreate' ? [{ id: op.id, object: op.object, old: op.old }] : op.steps.map((s) => ({ id: `${op.id}#${s.replica}`, object: `${op.object}#${s.replica}`, old: s.old }));
      for (const r of replaced) {
        const old = live.containers.find((c) => c.id === r.old.id);
        if (!old || (old.state !== 'exited' && old.state !== 'created')) continue;
        const start: ServiceStartOp = {
          kind: 'service.start',
          id: r.id,
          wave: op.wave,
          action: 'start',
          stack: op.stack,
          object: r.object,
          reasons: [`held at the previous version (its rollout at this revision was rolled back); stopped (${old.status || old.state})`],
          after: op.after,
          service: op.service,
          containerId: old.id,
        };
        ops.push(start);
      }
      continue;
    }
    // New replicas of a held service would be the held revision: they wait with it.
    if (op.kind === 'service.create' && op.after.some((id) => heldIds.has(id))) continue;
    ops.push({ ...op, after: op.after.filter((id) => !heldIds.has(id) || ops.some((o) => o.id === id)) } as Op);
  }
  const warnings = [
    ...plan.warnings,
    ...held.map((op) => `${op.object}: its rollout at this revision was rolled back; not retried until a new commit (would ${op.action}: ${op.reasons.join('; ')})`),
  ];
  return { plan: { ...plan, ops, warnings, summary: summarize(ops) }, held };
}
