import type { Action, Op, OpBase, Plan, PlanError, PlanSummary, Wave } from '../model/plan.js';
import type { RolloutStrategy } from '../model/desired.js';

/**
 * `berth plan` for people, like `terraform plan`: one section per step in
 * execution order, one line per op — sign, object, action, reasons — then the
 * summary. Columns are padded to the widest entry of the plan, so the same
 * plan always renders to the same bytes. Ops never carry secret values in
 * their reasons, and nothing here prints a spec.
 */
export function renderPlanText(plan: Plan): string {
  const lines: string[] = [];
  const sections = sectionsOf(plan.ops);
  const rows = plan.ops.flatMap(opRows);
  const objW = Math.max(0, ...rows.map((r) => r.object.length));
  const actW = Math.max(0, ...rows.map((r) => r.action.length + 1));
  for (const s of sections) {
    if (lines.length > 0) lines.push('');
    lines.push(s.title);
    for (const op of s.ops) {
      for (const r of opRows(op)) lines.push(`  ${sign(op.action)} ${r.object.padEnd(objW)}  ${`${r.action}:`.padEnd(actW)} ${r.reasons.join('; ')}`);
    }
  }
  const notes = [...plan.warnings.map((w) => `Warning: ${w}`), ...plan.errors.map((e) => `Error: ${errorObject(e)}: ${e.message}`)];
  if (notes.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push(...notes);
  }
  if (lines.length > 0) lines.push('');
  if (plan.ops.length === 0 && plan.errors.length === 0) {
    lines.push('No changes. The host matches the desired state.');
  } else {
    lines.push(summaryLine(plan.summary));
    if (plan.errors.length > 0) {
      const n = plan.errors.length;
      lines.push(`The plan has ${n} error${n === 1 ? '' : 's'}: apply refuses it and changes nothing.`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function summaryLine(s: PlanSummary): string {
  return `Plan: ${s.create} to create, ${s.recreate} to recreate, ${s.update} to update, ${s.remove} to remove.`;
}

interface Section {
  title: string;
  ops: Op[];
}

const WAVE_TITLES: Record<Wave, string> = {
  networks: 'Wave 1 · networks',
  volumes: 'Wave 2 · volumes',
  databases: 'Wave 3 · databases',
  apps: 'Wave 4 · apps',
};

/** The plan's ops are already in execution order; group them under headings, keeping that order. */
function sectionsOf(ops: Op[]): Section[] {
  const keyOf = (op: Op): string => {
    if (op.kind === 'service.remove' || op.kind === 'container.cleanup') return 'Remove (apps, then databases):';
    if (op.kind === 'network.remove') return 'Remove networks:';
    return WAVE_TITLES[op.wave];
  };
  const out: Section[] = [];
  for (const op of ops) {
    const title = keyOf(op);
    const last = out[out.length - 1];
    if (last && last.title === title) last.ops.push(op);
    else out.push({ title, ops: [op] });
  }
  return out;
}

function sign(action: Action): string {
  if (action === 'create') return '+';
  if (action === 'remove') return '-';
  return '~';
}

/** One plan line per op; a rolling update gets one per replica it replaces, so the plan names every replica. */
function opRows(op: Op): { object: string; action: string; reasons: string[] }[] {
  if (op.kind !== 'service.rolling') return [{ object: op.object, action: actionText(op), reasons: op.reasons }];
  const total = op.steps.length;
  const batch = op.update.parallelism === 0 || op.update.parallelism >= total ? 'all at once' : `${op.update.parallelism} at a time`;
  return op.steps.map((step, i) => ({
    object: `${op.object}#${step.replica}`,
    action: `rolling ${i + 1}/${total} (${op.strategy}, ${batch}${op.update.failureAction === 'rollback' ? '' : `, on failure ${op.update.failureAction}`}${op.pull ? ', pull' : ''})`,
    reasons: step.reasons,
  }));
}

function actionText(op: Op): string {
  switch (op.kind) {
    case 'service.create':
      return op.build ? 'create (build)' : op.pull ? 'create (pull)' : 'create';
    case 'service.recreate':
      return `recreate (${op.strategy}${op.build ? ', build' : op.pull ? ', pull' : ''})`;
    case 'service.start':
      return 'start';
    case 'service.connect':
      return 'connect';
    case 'container.cleanup':
      return 'cleanup';
    default:
      return op.action;
  }
}

function errorObject(e: PlanError): string {
  return e.stack ? `${e.stack}/${e.object}` : e.object;
}

/** One op in `--json`: what and why, never the spec (it holds environment values). */
export interface PlanJsonOp extends OpBase {
  kind: Op['kind'];
  strategy?: RolloutStrategy;
  pull?: boolean;
  build?: boolean;
  image?: string;
  /** For `service.rolling`: the replicas it replaces, in order. */
  replicas?: { replica: number; container: string; reasons: string[] }[];
}

export interface PlanJson {
  revision: string | null;
  summary: PlanSummary;
  errors: PlanError[];
  warnings: string[];
  ops: PlanJsonOp[];
}

export function renderPlanJson(plan: Plan): PlanJson {
  return {
    revision: plan.revision,
    summary: { ...plan.summary },
    errors: plan.errors.map((e) => ({ code: e.code, stack: e.stack, object: e.object, message: e.message })),
    warnings: [...plan.warnings],
    ops: plan.ops.map((op) => {
      const j: PlanJsonOp = {
        id: op.id,
        kind: op.kind,
        wave: op.wave,
        action: op.action,
        stack: op.stack,
        object: op.object,
        reasons: [...op.reasons],
        after: [...op.after],
      };
      if (op.kind === 'service.recreate' || op.kind === 'service.rolling') j.strategy = op.strategy;
      if (op.kind === 'service.create' || op.kind === 'service.recreate' || op.kind === 'service.rolling') j.pull = op.pull;
      if ((op.kind === 'service.create' || op.kind === 'service.recreate') && op.build) j.build = true;
      if (op.kind === 'service.rolling') j.replicas = op.steps.map((s) => ({ replica: s.replica, container: s.containerName, reasons: [...s.reasons] }));
      if (op.kind === 'service.create' || op.kind === 'service.recreate' || op.kind === 'service.rolling' || op.kind === 'service.start' || op.kind === 'service.connect') {
        j.image = op.service.image;
      }
      return j;
    }),
  };
}
