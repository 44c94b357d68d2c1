import type { ControllerStatus } from '../loop/controller.js';
import type { HistoryEntry } from '../ports/state.js';
import { dashboardStatus, overallSync, type DashboardStatus, type DriftEvent, type SyncState } from './status-model.js';

/**
 * `/api/status` of `berth run` with berth.yaml `hosts:`: the fields of one
 * host's status, summed over all hosts (so the page and scripts that read
 * one host keep working - stack names are unique across hosts), plus
 * `hosts`: each host's own state, and `host` on every stack, service's
 * stack, drift item and deploy, so a reader can group by host.
 */
export interface HostPart {
  name: string;
  docker: string;
  /** null until its engine answered or failed once. */
  up: boolean | null;
  /** The engine's error while down (the adapter's text). */
  error: string | null;
  status: ControllerStatus;
  history: HistoryEntry[];
}

export interface HostSummary {
  host: string;
  docker: string;
  up: boolean | null;
  error: string | null;
  sync: SyncState;
  ready: boolean;
  lastApplied: ControllerStatus['lastApplied'];
  lastResult: ControllerStatus['lastResult'];
  backoff: ControllerStatus['backoff'];
  held: ControllerStatus['held'];
  drift: number;
  stacks: string[];
}

export interface HostsDashboardStatus extends Omit<DashboardStatus, 'stacks'> {
  stacks: (DashboardStatus['stacks'][number] & { host: string })[];
  hosts: HostSummary[];
}

const SYNC_RANK: Record<SyncState, number> = { 'in sync': 0, 'changes pending': 1, held: 2, failed: 3 };

export function hostsDashboardStatus(
  name: string,
  shared: Pick<ControllerStatus, 'repo' | 'branch' | 'lastFetched' | 'fetchError'> & { ready: boolean },
  parts: HostPart[],
  driftEvents: DriftEvent[],
): HostsDashboardStatus {
  const statuses = parts.map((p) => p.status);
  const revisions = new Set(statuses.map((s) => s.lastApplied?.revision ?? null));
  const failing = parts.find((p) => p.status.lastResult && p.status.lastResult.outcome !== 'converged' && p.status.lastResult.outcome !== 'in-sync' && p.status.lastResult.outcome !== 'changes-pending');
  const latest = statuses.map((s) => s.lastResult).filter((r) => r !== null).sort((a, b) => a.at.localeCompare(b.at)).at(-1) ?? null;
  const heldServices = statuses.flatMap((s) => s.held?.services ?? []).sort();
  const combined: ControllerStatus = {
    ...shared,
    running: statuses.some((s) => s.running),
    reconciles: statuses.reduce((n, s) => n + s.reconciles, 0),
    // One revision when every host runs the same; none while they differ (the hosts list tells which runs what).
    lastApplied: revisions.size === 1 ? (statuses.find((s) => s.lastApplied)?.lastApplied ?? null) : null,
    lastResult: failing ? { ...failing.status.lastResult!, errors: failing.status.lastResult!.errors.map((e) => `${failing.name}: ${e}`) } : latest,
    validationErrors: statuses.find((s) => s.validationErrors.length > 0)?.validationErrors ?? [],
    backoff: statuses.find((s) => s.backoff)?.backoff ?? null,
    held: heldServices.length > 0 ? { revision: statuses.find((s) => s.held)?.held?.revision ?? null, services: heldServices } : null,
    drift: parts.flatMap((p) => p.status.drift.map((d) => ({ ...d, host: p.name }))),
    stacks: parts.flatMap((p) => p.status.stacks),
  };
  const stackHosts = parts.flatMap((p) => p.status.stacks.map(() => p.name));
  const history = parts
    .flatMap((p) => p.history.map((h) => ({ ...h, host: p.name })))
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(-10);
  const base = dashboardStatus(combined, name, history, driftEvents);
  const hosts = parts.map((p): HostSummary => ({
    host: p.name,
    docker: p.docker,
    up: p.up,
    error: p.up === false ? p.error : null,
    sync: p.up === false ? 'failed' : overallSync(p.status),
    ready: p.status.ready,
    lastApplied: p.status.lastApplied,
    lastResult: p.status.lastResult,
    backoff: p.status.backoff,
    held: p.status.held,
    drift: p.status.drift.length,
    stacks: p.status.stacks.map((s) => s.name),
  }));
  const worst = hosts.reduce<SyncState>((w, h) => (SYNC_RANK[h.sync] > SYNC_RANK[w] ? h.sync : w), base.sync);
  return {
    ...base,
    sync: worst,
    stacks: base.stacks.map((st, i) => ({ ...st, host: stackHosts[i]! })),
    hosts,
  };
}
