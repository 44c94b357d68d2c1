import type { AppliedRecord } from './applied.js';
import type { DesiredState, RolloutStrategy } from './desired.js';
import type { Diagnostic } from './errors.js';
import type { LiveState } from './live.js';
import type { Op, Plan } from './plan.js';
import type { DesiredSource } from './source.js';

/**
 * What a pass did, as data: the results of rollouts, of an apply and of one
 * reconcile. Shared by loop/ (which produces them) and notify/, cli/, http/
 * (which print, count or send them), so it lives below all of them.
 */

/** `berth_rollouts_total{result}`. */
export type RolloutResult = 'succeeded' | 'rolled_back' | 'failed';

export interface RolloutReport {
  strategy: RolloutStrategy;
  result: RolloutResult;
  /** The gate that stopped the rollout (health-timeout, unhealthy, container-exited, backup, traefik-server-down, circuit-breaker, …). */
  gate?: string;
  lastHealthOutput?: string | null;
  /** Notes of gates that passed (e.g. the Traefik bake) or were skipped. */
  notes?: string[];
}

export type OpStatus = 'ok' | 'failed' | 'skipped';

export interface OpResult {
  id: string;
  kind: Op['kind'];
  action: Op['action'];
  object: string;
  status: OpStatus;
  durationMs: number;
  /** Why it failed or was skipped. */
  error?: string;
  /** For `service.recreate`: how the rollout went (strategy, result, the gate that stopped it). */
  rollout?: RolloutReport;
}

export interface ApplyResult {
  ok: boolean;
  results: OpResult[];
  durationMs: number;
  /** `<stack>/<service>` of services whose desired spec is not what the host runs now. */
  notApplied: Set<string>;
  /** True when a stop signal ended the apply between ops. */
  aborted: boolean;
  /** Images berth pulled in this apply (for image retention). */
  pulled: string[];
}

export type ReconcileOutcome = 'invalid' | 'plan-error' | 'in-sync' | 'changes-pending' | 'converged' | 'failed';

/** One image build of an apply (src/build/phase.ts). */
export interface BuildResult {
  /** `<stack>/<service>`. */
  object: string;
  tag: string;
  result: 'built' | 'pulled' | 'failed';
  durationMs: number;
  error?: string;
}

export interface ReconcileResult {
  outcome: ReconcileOutcome;
  source: DesiredSource;
  diagnostics: Diagnostic[];
  desired: DesiredState | null;
  live: LiveState | null;
  applied: AppliedRecord | null;
  plan: Plan | null;
  /** Drift repairs left out because self-heal is off for their object. */
  held: Op[];
  apply: ApplyResult | null;
  /** Images built by this apply (src/build), one entry per build. */
  builds?: BuildResult[];
  durationMs: number;
}

/**
 * What a controller is doing, for chat's drift hold: `pass` — a pass is running or
 * queued (it repairs, or observes more of, the drift being held); `events` — Docker
 * events wait in the debounce for a pass; `idle`.
 */
export type ControllerActivity = 'pass' | 'events' | 'idle';
