import type { SwarmOp, SwarmPlan, SwarmWave } from './plan.js';

/**
 * A swarm plan for people, in the words of one host's plan: one line per
 * op, grouped by wave, `+` create, `~` update, `-` remove, with the reasons.
 */
const TITLES: Record<SwarmWave, string> = { networks: 'Wave 1 · networks', volumes: 'Wave 2 · volumes', databases: 'Wave 3 · databases', apps: 'Wave 4 · apps' };
const SIGN: Record<SwarmOp['kind'], string> = { 'network.create': '+', 'file.create': '+', 'service.create': '+', 'service.update': '~', 'service.remove': '-', 'file.remove': '-', 'network.remove': '-' };
const ACTION: Record<SwarmOp['kind'], string> = { 'network.create': 'create', 'file.create': 'create', 'service.create': 'create', 'service.update': 'update', 'service.remove': 'remove', 'file.remove': 'remove', 'network.remove': 'remove' };

export function swarmSummary(plan: SwarmPlan): { create: number; update: number; remove: number; held: number } {
  const n = (f: (o: SwarmOp) => boolean) => plan.ops.filter(f).length;
  return {
    create: n((o) => o.kind.endsWith('.create')),
    update: n((o) => o.kind === 'service.update' && !o.held),
    remove: n((o) => o.kind.endsWith('.remove')),
    held: n((o) => o.kind === 'service.update' && o.held),
  };
}

/** Ops that change something (a held drift repair is reported, not applied). */
export function pendingOps(plan: SwarmPlan): SwarmOp[] {
  return plan.ops.filter((o) => !(o.kind === 'service.update' && o.held));
}

export function renderSwarmPlan(plan: SwarmPlan): string {
  const lines: string[] = [];
  const w = Math.max(0, ...plan.ops.map((o) => o.object.length));
  let section = '';
  for (const op of plan.ops) {
    const title = op.kind.endsWith('.remove') ? 'Removals' : TITLES[op.wave];
    if (title !== section) {
      if (lines.length > 0) lines.push('');
      lines.push(title);
      section = title;
    }
    lines.push(`  ${SIGN[op.kind]} ${op.object.padEnd(w)}  ${ACTION[op.kind]}: ${op.reasons.join('; ')}`);
  }
  const notes = [...plan.warnings.map((x) => `Warning: ${x}`), ...plan.errors.map((e) => `Error: ${e.object}: ${e.message}`)];
  if (notes.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push(...notes);
  }
  if (lines.length > 0) lines.push('');
  const s = swarmSummary(plan);
  if (pendingOps(plan).length === 0 && plan.errors.length === 0) lines.push(s.held > 0 ? `No changes applied: ${s.held} drifted ${s.held === 1 ? 'service is' : 'services are'} reported only (selfHeal off).` : 'No changes. The swarm matches the desired state.');
  else lines.push(`Plan: ${s.create} to create, ${s.update} to update, ${s.remove} to remove.${plan.errors.length > 0 ? ' The plan has errors: apply refuses it and changes nothing.' : ''}`);
  return lines.join('\n');
}
