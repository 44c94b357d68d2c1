import type { AppliedRecord } from '../model/applied.js';
import type { BerthSettings, DesiredState, ServiceSpec } from '../model/desired.js';
import type { Op, Plan } from '../model/plan.js';
import { summarize } from '../plan/build-plan.js';
import { canonicalJson } from '../compose/hash.js';

/**
 * `selfHeal: false` (berth.yaml policy, per stack, or per service in
 * `x-berth`): drift is reported, never undone. An op is a drift repair when
 * nothing committed changed its object — the desired spec is the one last
 * applied — so only something outside berth can have made the host differ.
 * Ops that deploy a commit, and prune, are kept.
 */
export function selfHealFor(settings: BerthSettings, stack: string, service?: Pick<ServiceSpec, 'berth'>): boolean {
  return service?.berth.selfHeal ?? settings.stacks[stack]?.selfHeal ?? settings.policy.selfHeal;
}

export interface HeldOps {
  plan: Plan;
  /** Repairs left out because self-heal is off for their object. */
  held: Op[];
}

export function withoutDriftRepairs(plan: Plan, desired: DesiredState, applied: AppliedRecord | null): HeldOps {
  if (!applied) return { plan, held: [] };
  const settings = desired.settings;
  const appliedService = (stack: string, name: string) => applied.stacks.find((s) => s.name === stack)?.services.find((x) => x.name === name);
  const appliedNetwork = (name: string) => applied.stacks.flatMap((s) => s.networks).find((n) => n.name === name);
  const appliedVolume = (name: string) => applied.stacks.flatMap((s) => s.volumes).find((v) => v.name === name);

  const isHeldRepair = (op: Op): boolean => {
    switch (op.kind) {
      case 'service.create':
      case 'service.recreate':
      case 'service.rolling':
      case 'service.start':
      case 'service.connect': {
        if (selfHealFor(settings, op.stack, op.service)) return false;
        const before = appliedService(op.stack, op.service.name);
        return before !== undefined && before.configHash === op.service.configHash;
      }
      case 'network.create':
      case 'network.recreate': {
        if (selfHealFor(settings, op.stack)) return false;
        const before = appliedNetwork(op.network.name);
        return before !== undefined && canonicalJson(before) === canonicalJson(op.network);
      }
      case 'volume.create': {
        if (selfHealFor(settings, op.stack)) return false;
        const before = appliedVolume(op.volume.name);
        return before !== undefined && canonicalJson(before) === canonicalJson(op.volume);
      }
      default:
        return false;
    }
  };

  const held = plan.ops.filter(isHeldRepair);
  if (held.length === 0) return { plan, held };
  const ops = plan.ops.filter((op) => !held.includes(op));
  const warnings = [...plan.warnings, ...held.map((op) => `${op.object}: self-heal is off; drift left as found (would ${op.action}: ${op.reasons.join('; ')})`)];
  return { plan: { ...plan, ops, warnings, summary: summarize(ops) }, held };
}
