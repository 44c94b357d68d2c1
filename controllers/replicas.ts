import { LABEL, isManaged } from '../src/labels.js';
import type { RolloutStrategy, ServiceSpec } from '../src/model/desired.js';
import { DEFAULT_UPDATE_CONFIG } from '../src/model/desired.js';
import type { LiveContainer } from '../src/model/live.js';
import type { Op, ReplicaStep, ServiceRecreateOp, ServiceRemoveOp, ServiceRollingOp, Wave } from '../src/model/plan.js';
import { replicaCount, replicaNumberOf, replicaSpec } from '../src/model/replicas.js';
import { emptyResult, type ControllerContext, type ControllerResult } from './context.js';

/**
 * A scaled service (`deploy.replicas` / `scale`): replicas `<stack>-<service>-1..N`,
 * each planned like a one-container service, then put together:
 *
 *   replica k > N exists            → removed, highest number first ("scale 3 → 1")
 *   replica k ≤ N missing           → created ("scale 2 → 3"), after any rolling update
 *   replicas whose config changed   → one `service.rolling` op over all of them
 *
 * Creates wait for the rolling update so that a failed rollout, which rolls
 * back, does not leave new replicas of the failed revision beside the old ones.
 * A service with one replica and no extra containers plans exactly as before.
 */

/** Plans one replica's container (service.ts's `planService` with the stack, context and tier options bound). */
export type PlanOne = (spec: ServiceSpec) => ControllerResult;

export function planReplicas(spec: ServiceSpec, ctx: ControllerContext, planOne: PlanOne, wave: Wave): ControllerResult {
  const n = replicaCount(spec);
  const extra = extraReplicas(spec, ctx);
  if (n === 1 && extra.length === 0) return planOne(spec);

  const out = emptyResult();
  const existing = liveReplicaCount(spec, ctx);
  const scale = `scale ${existing} → ${n}`;
  const recreates: { replica: number; op: ServiceRecreateOp }[] = [];
  const creates: Op[] = [];
  const ordered = withUpdateOrder(spec);
  for (let k = 1; k <= n; k++) {
    const r = planOne(replicaSpec(ordered, k));
    out.errors.push(...r.errors);
    out.warnings.push(...r.warnings);
    for (const op of r.ops) {
      const named = n > 1 ? renameForReplica(op, k) : op;
      if (named.kind === 'service.recreate') recreates.push({ replica: k, op: named });
      else if (named.kind === 'service.create') creates.push(k > existing && existing > 0 ? { ...named, reasons: [scale] } : named);
      else out.ops.push(named);
    }
  }
  let rollingId: string | null = null;
  if (recreates.length === 1 && n === 1) out.ops.push(recreates[0]!.op);
  else if (recreates.length > 0) {
    const rolling = rollingOp(spec, recreates, wave);
    rollingId = rolling.id;
    out.ops.push(rolling);
  }
  for (const op of creates) out.ops.push(rollingId ? { ...op, after: [...op.after, rollingId] } : op);
  // Highest numbers first, one after the other, as `docker compose up --scale` does.
  let previous: string | null = null;
  for (const { number, container } of extra) {
    const op = removeReplicaOp(container, spec, wave, [scale], number, previous);
    out.ops.push(op);
    previous = op.id;
  }
  return out;
}

/** Managed containers of the service numbered above its replica count, highest first (what scaling down removes). */
export function extraReplicas(spec: ServiceSpec, ctx: ControllerContext): { number: number; container: LiveContainer }[] {
  const n = replicaCount(spec);
  const out: { number: number; container: LiveContainer }[] = [];
  for (const c of ctx.containerList) {
    const k = replicaNumberOf(spec, c.name);
    if (k === null || k <= n || !belongsTo(c, spec)) continue;
    out.push({ number: k, container: c });
  }
  return out.sort((a, b) => b.number - a.number);
}

/** Whether prune must leave `c` alone: it is an extra replica of a desired service, which `planReplicas` scales down. */
export function claimedByScale(c: LiveContainer, ctx: ControllerContext): boolean {
  const stack = c.labels[LABEL.stack] ?? '';
  const service = c.labels[LABEL.service] ?? '';
  const spec = ctx.services.get(`${stack}/${service}`);
  if (!spec) return false;
  const k = replicaNumberOf(spec, c.name);
  return k !== null && k > replicaCount(spec);
}

function belongsTo(c: LiveContainer, spec: ServiceSpec): boolean {
  return isManaged(c.labels) && c.labels[LABEL.stack] === spec.stack && c.labels[LABEL.service] === spec.name;
}

/** Replicas that exist now under their canonical names (for "scale X → N"). */
function liveReplicaCount(spec: ServiceSpec, ctx: ControllerContext): number {
  let count = 0;
  for (const c of ctx.containerList) if (belongsTo(c, spec) && replicaNumberOf(spec, c.name) !== null) count++;
  return count;
}

/** `service:<stack>/<svc>` → `service:<stack>/<svc>#k`; ops keyed by container name keep their id. */
function renameForReplica<T extends Op>(op: T, k: number): T {
  if (!op.id.startsWith('service:')) return op;
  return { ...op, id: `${op.id}#${k}`, object: `${op.object}#${k}` };
}

function rollingOp(spec: ServiceSpec, recreates: { replica: number; op: ServiceRecreateOp }[], wave: Wave): ServiceRollingOp {
  const first = recreates[0]!.op;
  const update = spec.updateConfig ?? DEFAULT_UPDATE_CONFIG;
  // The replicas' strategy already went through the service's rules (host ports, fixed IPs, shared data
  // directories force recreate). A service that publishes host ports replaces one replica at a time.
  const strategy: RolloutStrategy = first.strategy;
  const forced = strategy === 'recreate' && spec.ports.some((p) => p.published !== null);
  const steps: ReplicaStep[] = recreates.map(({ replica, op }) => ({
    replica,
    containerName: op.service.containerName,
    old: op.old,
    reasons: op.reasons,
  }));
  const reasons: string[] = [];
  for (const s of steps) for (const r of s.reasons) if (!reasons.includes(r)) reasons.push(r);
  // Every replica has the same definition, so the same image decision (a pin, a moved tag); one whose
  // image must be pulled first speaks for all. Without it the replicas would run the tag, not the pin.
  const image = recreates.find((r) => r.op.image?.pullRef)?.op.image ?? first.image;
  return {
    kind: 'service.rolling',
    id: `service:${spec.stack}/${spec.name}`,
    wave,
    action: 'recreate',
    stack: spec.stack,
    object: `${spec.stack}/${spec.name}`,
    reasons,
    after: [],
    service: recreates.find((r) => r.replica === 1)?.op.service ?? first.service,
    pull: recreates.some((r) => r.op.pull),
    ...(image ? { image } : {}),
    strategy,
    update: forced ? { ...update, parallelism: 1, order: 'stop-first' } : update,
    steps,
  };
}

function removeReplicaOp(c: LiveContainer, spec: ServiceSpec, wave: Wave, reasons: string[], k: number, after: string | null): ServiceRemoveOp {
  return {
    kind: 'service.remove',
    id: `container:${c.name}`,
    wave,
    action: 'remove',
    stack: spec.stack,
    object: `${spec.stack}/${spec.name}#${k}`,
    reasons,
    after: after ? [after] : [],
    service: spec.name,
    tier: spec.berth.tier,
    containerId: c.id,
    containerName: c.name,
  };
}

/** `update_config.order` stands in for `x-berth.rollout` (stop-first is berth's recreate); the service's rules still apply on top. */
function withUpdateOrder(spec: ServiceSpec): ServiceSpec {
  const order = spec.updateConfig?.order;
  if (!order) return spec;
  const rollout: RolloutStrategy = order === 'stop-first' ? 'recreate' : 'start-first';
  return rollout === spec.berth.rollout ? spec : { ...spec, berth: { ...spec.berth, rollout } };
}
