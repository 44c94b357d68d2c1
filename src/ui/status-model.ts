import type { OpenDrift, ResolvedDrift } from '../drift/lifecycle.js';
import type { ControllerStatus, ServiceStatus } from '../loop/controller.js';
import type { HistoryEntry } from '../ports/state.js';

/**
 * What `/api/status` serves and the dashboard draws: the controller's status
 * plus what a person asks first - is the host in sync, what ran lately, what
 * drifted. Pure: the caller supplies the history and drift events it keeps.
 */
export type SyncState = 'in sync' | 'changes pending' | 'held' | 'failed';

export type DeploySummary = Omit<HistoryEntry, 'ops'>;

export interface DriftEvent {
  at: string;
  id: string;
  change: 'appeared' | 'resolved';
  /** healed (undone by berth) / fixed (by hand) / committed (made desired). */
  resolution?: string;
}

export interface DashboardService extends ServiceStatus {
  sync: SyncState;
  /** Open drift items of this service's container. */
  drift: number;
}

export interface DashboardStatus extends Omit<ControllerStatus, 'stacks'> {
  host: string;
  sync: SyncState;
  /** The applied revision with the subject of its commit, when known. */
  revision: { sha: string; short: string; subject: string | null } | null;
  stacks: { name: string; services: DashboardService[] }[];
  /** Newest first. */
  deploys: DeploySummary[];
  /** Newest first. */
  driftEvents: DriftEvent[];
}

const FAILED = new Set(['failed', 'invalid', 'error', 'plan-error']);

export function overallSync(s: ControllerStatus): SyncState {
  if (s.held && s.held.services.length > 0) return 'held';
  if (s.lastResult && FAILED.has(s.lastResult.outcome)) return 'failed';
  if (!s.ready || s.running || s.backoff || s.drift.length > 0) return 'changes pending';
  if (s.lastFetched && s.lastApplied && s.lastFetched.revision !== s.lastApplied.revision) return 'changes pending';
  return 'in sync';
}

function serviceSync(s: ControllerStatus, stack: string, svc: ServiceStatus, drift: number): SyncState {
  const key = `${stack}/${svc.name}`;
  if (s.held?.services.includes(key)) return 'held';
  if (s.lastResult && FAILED.has(s.lastResult.outcome) && s.lastResult.errors.some((e) => e.startsWith(`${key}:`))) return 'failed';
  if (drift > 0 || svc.state !== 'running') return 'changes pending';
  return 'in sync';
}

export function dashboardStatus(s: ControllerStatus, host: string, history: HistoryEntry[], driftEvents: DriftEvent[]): DashboardStatus {
  const applied = s.lastApplied?.revision ?? null;
  const subject =
    (applied && s.lastFetched?.revision === applied ? s.lastFetched.subject : undefined) ?? history.findLast((h) => h.revision === applied)?.subject ?? null;
  return {
    ...s,
    host,
    sync: overallSync(s),
    revision: applied ? { sha: applied, short: applied.slice(0, 12), subject } : null,
    stacks: s.stacks.map((st) => ({
      name: st.name,
      services: st.services.map((svc) => {
        const drift = s.drift.filter((d) => d.stack === st.name && d.service === svc.name).length;
        return { ...svc, sync: serviceSync(s, st.name, svc, drift), drift };
      }),
    })),
    deploys: history
      .slice()
      .reverse()
      .map(({ ops: _ops, ...rest }) => rest),
    driftEvents,
  };
}

/** Keeps the newest drift events for the page (bounded; lost on restart, the ledger in the state dir is not). */
export class DriftEventLog {
  private events: DriftEvent[] = [];
  constructor(private readonly max = 20) {}

  record(change: { appeared: OpenDrift[]; resolved: ResolvedDrift[] }): void {
    const add: DriftEvent[] = [
      ...change.appeared.map((a) => ({ at: a.since, id: a.item.id, change: 'appeared' as const })),
      ...change.resolved.map((r) => ({ at: r.at, id: r.item.id, change: 'resolved' as const, resolution: r.resolution })),
    ];
    this.events = [...add.reverse(), ...this.events].slice(0, this.max);
  }

  list(): DriftEvent[] {
    return this.events;
  }
}
