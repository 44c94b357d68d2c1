import type { ImageInputs } from '../../controllers/image.js';
import { controllerContext, cmp, serviceKey, type ControllerContext, type ControllerResult } from '../../controllers/context.js';
import { planDatabases } from '../../controllers/database.js';
import { planNetworks } from '../../controllers/network.js';
import { planApps } from '../../controllers/service.js';
import { planVolumes } from '../../controllers/volume.js';
import { isManaged } from '../labels.js';
import type { AppliedRecord } from '../model/applied.js';
import type { DesiredState } from '../model/desired.js';
import type { LiveState } from '../model/live.js';
import type { Op, Plan, PlanError, PlanSummary } from '../model/plan.js';
import { followReplacedDependencies } from './followers.js';
import { hostPathWarnings } from './host-paths.js';

type ServiceOp = Extract<Op, { kind: 'service.create' | 'service.recreate' | 'service.rolling' | 'service.start' | 'service.connect' }>;

/**
 * One plan across all stacks (PRODUCT.md §2). Pure: same inputs, deep-equal
 * output. The ops array is the execution order:
 *
 *   (a) container removals and cleanups: apps, then databases
 *   (b) networks: create, recreate
 *   (c) volumes
 *   (d) databases, dependencies first
 *   (e) apps, dependencies first
 *   (f) network removals
 *
 * `after` of a service op lists the ops of its `depends_on` services (same
 * stack; through services that have no op of their own), across waves too, so
 * apply can skip a dependent whose dependency failed.
 *
 * A plan with errors still lists its ops, for display; apply refuses it.
 */
export function buildPlan(desired: DesiredState, live: LiveState, applied: AppliedRecord | null, revision: string | null, images?: ImageInputs): Plan {
  const ctx = controllerContext(desired, live, applied, images);
  const results: ControllerResult[] = [
    planNetworks(desired, live, applied, ctx),
    planVolumes(desired, live, applied, ctx),
    planDatabases(desired, live, applied, ctx),
    planApps(desired, live, applied, ctx),
  ];
  const errors: PlanError[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, Op>();
  for (const r of results) {
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    for (const op of r.ops) {
      if (seen.has(op.id)) {
        // Controllers key ops by Docker name or stack/service, so this means two desired objects claim one name.
        errors.push({ code: 'duplicate-op', stack: op.stack, object: op.object, message: `two changes planned for ${op.id}; the second (${op.kind}) was dropped` });
        continue;
      }
      seen.set(op.id, op);
    }
  }
  const ops = reconcileNetworkOps(followReplacedDependencies([...seen.values()], ctx), ctx, warnings);
  const ordered = order(ops, ctx, warnings);
  warnings.push(...hostPathWarnings(desired.root, ordered));
  errors.sort((a, b) => cmp(a.stack, b.stack) || cmp(a.object, b.object));
  return { revision, ops: ordered, errors, warnings, summary: summarize(ordered) };
}

/**
 * Counts for the summary line. `create`: every create. `recreate`: service
 * and network recreates. `update`: starts and network (dis)connects — the
 * container stays, something about it changes. `remove`: service removals
 * and leftover cleanups — a container goes away either way.
 */
export function summarize(ops: Op[]): PlanSummary {
  const s: PlanSummary = { create: 0, recreate: 0, update: 0, remove: 0 };
  for (const op of ops) {
    if (op.action === 'create') s.create++;
    else if (op.action === 'recreate') s.recreate++;
    else if (op.action === 'update' || op.action === 'start') s.update++;
    else s.remove++;
  }
  return s;
}

/**
 * What the network controller cannot know alone: which attached containers
 * this plan removes anyway (not reconnected after a recreate), and whether a
 * network to prune would still have a container of ours on it when its turn
 * comes (then it stays, with a warning, instead of failing apply).
 */
function reconcileNetworkOps(ops: Op[], ctx: ControllerContext, warnings: string[]): Op[] {
  const removed = new Set<string>();
  const replaced = new Map<string, ServiceOp>();
  for (const op of ops) {
    if (op.kind === 'service.remove' || op.kind === 'container.cleanup') removed.add(op.containerName);
    if (op.kind === 'service.recreate') replaced.set(op.old.name, op);
    if (op.kind === 'service.rolling') for (const step of op.steps) replaced.set(step.old.name, op);
  }
  const connectByContainer = new Map<string, Extract<Op, { kind: 'service.connect' }>>();
  for (const op of ops) if (op.kind === 'service.connect') connectByContainer.set(op.service.containerName, op);

  const out: Op[] = [];
  for (const op of ops) {
    if (op.kind === 'network.recreate') {
      out.push({ ...op, attached: op.attached.filter((n) => !removed.has(n)) });
      continue;
    }
    if (op.kind === 'network.remove') {
      const staying = (ctx.attached.get(op.name) ?? []).filter((c) => {
        if (!isManaged(c.labels) || removed.has(c.name)) return false;
        const re = replaced.get(c.name);
        if (re && !re.service.networks.some((n) => n.name === op.name)) return false;
        const conn = connectByContainer.get(c.name);
        if (conn && conn.disconnect.includes(op.name)) return false;
        return true;
      });
      if (staying.length > 0) {
        warnings.push(`network ${op.name}: ${op.reasons.join('; ')}, but ${staying.map((c) => c.name).join(', ')} stays attached; left in place`);
        continue;
      }
    }
    out.push(op);
  }
  return out;
}

function isServiceOp(op: Op): op is ServiceOp {
  return op.kind === 'service.create' || op.kind === 'service.recreate' || op.kind === 'service.rolling' || op.kind === 'service.start' || op.kind === 'service.connect';
}

function order(ops: Op[], ctx: ControllerContext, warnings: string[]): Op[] {
  const byObject = (a: Op, b: Op) => cmp(a.stack, b.stack) || cmp(a.object, b.object) || cmp(a.id, b.id);
  const byName = (a: Op, b: Op) => cmp(a.object, b.object) || cmp(a.id, b.id);
  const isRemoval = (op: Op) => op.kind === 'service.remove' || op.kind === 'container.cleanup';

  // A scaled service has an op per replica (and a rolling update): all of them are "the service's ops".
  const serviceOps = new Map<string, ServiceOp[]>();
  for (const op of ops) {
    if (!isServiceOp(op)) continue;
    const k = serviceKey(op.stack, op.service.name);
    const list = serviceOps.get(k);
    if (list) list.push(op);
    else serviceOps.set(k, [op]);
  }
  fillAfter(serviceOps, ctx);

  return [
    ...afterFirst(ops.filter((o) => isRemoval(o) && o.wave === 'apps').sort(byObject)),
    ...afterFirst(ops.filter((o) => isRemoval(o) && o.wave === 'databases').sort(byObject)),
    ...ops.filter((o) => o.kind === 'network.create' || o.kind === 'network.recreate').sort(byName),
    ...ops.filter((o) => o.kind === 'volume.create').sort(byName),
    ...topological(ops.filter((o): o is ServiceOp => isServiceOp(o) && o.wave === 'databases'), warnings),
    ...topological(ops.filter((o): o is ServiceOp => isServiceOp(o) && o.wave === 'apps'), warnings),
    ...ops.filter((o) => o.kind === 'network.remove').sort(byName),
  ];
}

/** Keeps the order, except that an op comes after the ops it waits for (scale-down removes the highest replica first). */
function afterFirst(ops: Op[]): Op[] {
  const byId = new Map(ops.map((o) => [o.id, o]));
  const placed = new Set<string>();
  const out: Op[] = [];
  const place = (op: Op, path: Set<string>) => {
    if (placed.has(op.id) || path.has(op.id)) return;
    path.add(op.id);
    for (const id of op.after) {
      const dep = byId.get(id);
      if (dep) place(dep, path);
    }
    placed.add(op.id);
    out.push(op);
  };
  for (const op of ops) place(op, new Set());
  return out;
}

/**
 * `after` = ops of the services this one depends on; a dependency without an op passes its own
 * dependencies on. Orderings a controller set inside one service (replicas created after the rolling update) stay.
 */
function fillAfter(serviceOps: Map<string, ServiceOp[]>, ctx: ControllerContext): void {
  for (const [key, list] of serviceOps) {
    const after = new Set<string>();
    const visited = new Set<string>([key]);
    const visit = (stack: string, deps: { service: string }[]) => {
      for (const d of deps) {
        const k = serviceKey(stack, d.service);
        if (visited.has(k)) continue;
        visited.add(k);
        const depOps = serviceOps.get(k);
        if (depOps) for (const d of depOps) after.add(d.id);
        else {
          const spec = ctx.services.get(k);
          if (spec) visit(stack, spec.dependsOn);
        }
      }
    };
    const first = list[0]!;
    visit(first.stack, first.service.dependsOn);
    for (const op of list) op.after = [...new Set([...op.after, ...after])].sort(cmp);
  }
}

/** Kahn's algorithm inside one wave: dependencies first, ties by stack then service name. */
function topological(ops: ServiceOp[], warnings: string[]): ServiceOp[] {
  const key = (o: ServiceOp) => `${o.stack}\0${o.service.name}`;
  const byId = new Map(ops.map((o) => [o.id, o]));
  const pending = new Map<string, number>();
  const dependents = new Map<string, ServiceOp[]>();
  for (const o of ops) {
    const inWave = o.after.filter((id) => byId.has(id));
    pending.set(o.id, inWave.length);
    for (const id of inWave) {
      const list = dependents.get(id);
      if (list) list.push(o);
      else dependents.set(id, [o]);
    }
  }
  const ready = ops.filter((o) => pending.get(o.id) === 0).sort((a, b) => cmp(key(a), key(b)));
  const out: ServiceOp[] = [];
  while (ready.length > 0) {
    const next = ready.shift()!;
    out.push(next);
    for (const d of dependents.get(next.id) ?? []) {
      const n = pending.get(d.id)! - 1;
      pending.set(d.id, n);
      if (n === 0) insertSorted(ready, d, (a, b) => cmp(key(a), key(b)));
    }
  }
  if (out.length < ops.length) {
    // Validation rejects depends_on cycles; a hand-built state may still have one.
    const left = ops.filter((o) => pending.get(o.id)! > 0).sort((a, b) => cmp(key(a), key(b)));
    warnings.push(`depends_on cycle among ${left.map((o) => o.object).join(', ')}; ordered by name`);
    out.push(...left);
  }
  return out;
}

function insertSorted<T>(xs: T[], x: T, compare: (a: T, b: T) => number): void {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(xs[mid]!, x) <= 0) lo = mid + 1;
    else hi = mid;
  }
  xs.splice(lo, 0, x);
}
