import type { DesiredState } from './desired.js';
import type { DesiredSource } from './source.js';

/**
 * What one `berth run` pass did on a `mode: swarm` host, as data: produced by
 * loop/swarm-controller.ts, told to chat by notify/ and counted by http/.
 */
export interface SwarmPassResult {
  outcome: 'converged' | 'in-sync' | 'failed' | 'plan-error';
  source: DesiredSource;
  /** The settings of the desired state this pass enforced (notifiers come from them). */
  settings: DesiredState['settings'] | null;
  /** Each op the pass ran or left (`<stack>/<service>`, a network, a swarm config/secret). */
  ops: { object: string; kind: string; result: 'ok' | 'failed' | 'rolled-back' | 'held' | 'skipped'; message: string }[];
  /** Plan errors (nothing applied). */
  errors: string[];
  durationMs: number;
}
