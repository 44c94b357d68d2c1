import type { AppliedRecord } from '../src/model/applied.js';
import type { DesiredState, ServiceSpec } from '../src/model/desired.js';
import type { LiveState } from '../src/model/live.js';
import { controllerContext, type ControllerContext, type ControllerResult } from './context.js';
import { planServiceTier, type StrategyRule } from './service.js';

/**
 * The database tier (PRODUCT.md §2 wave 3): the shared service logic, plus
 * one rule of its own. Two database servers on one data directory corrupt it,
 * so a database that writes to a named volume is never rolled out
 * `start-first`, whatever `x-berth.rollout` says: it is `recreate` (stop the
 * old, start the new on the same volume, keep the old to roll back).
 */
export function planDatabases(
  desired: DesiredState,
  live: LiveState,
  applied: AppliedRecord | null,
  ctx: ControllerContext = controllerContext(desired, live, applied),
): ControllerResult {
  return planServiceTier('database', ctx, { strategyRules: [sharedDataDirectory] });
}

export const sharedDataDirectory: StrategyRule = (spec: ServiceSpec) => {
  const volume = spec.mounts.find((m) => m.type === 'volume' && m.source !== null && !m.readOnly);
  if (!volume || volume.type !== 'volume') return null;
  return { strategy: 'recreate', reason: `database writes to volume ${volume.source}: recreate instead of start-first` };
};
