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
  const isHeld = (op: Op) => op.kind === 'service.recreate' && hold.has(`${op.stack}/${op.service.name}`);
  const held = plan.ops.filter(isHeld);
  if (held.length === 0) return { plan, held };
  const heldIds = new Set(held.map((op) => op.id));
  const ops: Op[] = [];
  for (const op of plan.ops) {
    if (op.kind === 'service.recreate' && heldIds.has(op.id)) {
      const old = live.containers.find((c) => c.id === op.old.id);
      if (old && (old.state === 'exited' || old.state === 'created')) {
        const start: ServiceStartOp = {
          kind: 'service.start',
          id: op.id,
          wave: op.wave,
          action: 'start',
          stack: op.stack,
          object: op.object,
          reasons: [`held at the previous version (its rollout at this revision was rolled back); stopped (${old.status || old.state})`],
          after: op.after,
          service: op.service,
          containerId: old.id,
        };
        ops.push(start);
      }
      continue;
    }
    ops.push({ ...op, after: op.after.filter((id) => !heldIds.has(id) || ops.some((o) => o.id === id)) } as Op);
  }
  const warnings = [
    ...plan.warnings,
    ...held.map((op) => `${op.object}: its rollout at this revision was rolled back; not retried until a new commit (would ${op.action}: ${op.reasons.join('; ')})`),
  ];
  return { plan: { ...plan, ops, warnings, summary: summarize(ops) }, held };
}
