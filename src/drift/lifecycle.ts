import type { DriftItem } from './detect.js';

/**
 * Drift as a lifecycle, so chat hears about it once: an item is announced
 * when it appears, kept quiet while it persists, and announced once more
 * when it disappears. The open set is persisted (state dir) so a restart of
 * `berth run` does not announce old drift again. Pure: state in, state out.
 */
export interface OpenDrift {
  item: DriftItem;
  /** ISO time it was first seen. */
  since: string;
}

export interface DriftLedger {
  open: Record<string, OpenDrift>;
}

export type Resolution = 'healed' | 'fixed' | 'committed';

export interface ResolvedDrift extends OpenDrift {
  resolution: Resolution;
  /** ISO time it was seen gone. */
  at: string;
}

export interface DriftTransition {
  ledger: DriftLedger;
  appeared: OpenDrift[];
  resolved: ResolvedDrift[];
}

export const EMPTY_LEDGER: DriftLedger = { open: {} };

/**
 * `current`: drift seen now. `healedObjects`: stack/object pairs berth changed
 * in the pass that ends now (a drift item gone after berth touched its object
 * was healed by berth). `committed`: objects whose desired spec changed with a
 * new commit (gone drift there was made desired, not fixed).
 */
export function transition(
  prev: DriftLedger,
  current: DriftItem[],
  now: Date,
  healedObjects: ReadonlySet<string> = new Set(),
  committed: ReadonlySet<string> = new Set(),
): DriftTransition {
  const at = now.toISOString();
  const open: Record<string, OpenDrift> = {};
  const appeared: OpenDrift[] = [];
  for (const item of current) {
    const before = prev.open[item.id];
    if (before) open[item.id] = { item, since: before.since };
    else {
      const fresh = { item, since: at };
      open[item.id] = fresh;
      appeared.push(fresh);
    }
  }
  const resolved: ResolvedDrift[] = [];
  for (const [id, was] of Object.entries(prev.open).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (open[id]) continue;
    const key = objectKey(was.item);
    const resolution: Resolution = healedObjects.has(key) ? 'healed' : committed.has(key) ? 'committed' : 'fixed';
    resolved.push({ ...was, resolution, at });
  }
  return { ledger: { open }, appeared, resolved };
}

/**
 * The first half of a pass's transition, for the moment it has observed the host
 * and not yet repaired it: new items open (and are announced now, not after a heal
 * that may take a minute), nothing resolves yet. `transition` after the pass then
 * finds them open and only resolves them.
 */
export function noticeAppeared(prev: DriftLedger, current: DriftItem[], now: Date): { ledger: DriftLedger; appeared: OpenDrift[] } {
  const at = now.toISOString();
  const open: Record<string, OpenDrift> = { ...prev.open };
  const appeared: OpenDrift[] = [];
  for (const item of current) {
    if (open[item.id]) continue;
    const fresh = { item, since: at };
    open[item.id] = fresh;
    appeared.push(fresh);
  }
  return { ledger: { open }, appeared };
}

/** `stack/object` — the key ops and drift items share. */
export function objectKey(item: Pick<DriftItem, 'stack' | 'object'>): string {
  return `${item.stack}/${item.object}`;
}

/** One line per item for people: `web/web-web-1: stopped — expected running, found exited (…)`. */
export function describeDrift(item: DriftItem): string {
  return `${item.stack}/${item.object}: ${item.kind} ${item.aspect} — expected ${item.expected}, found ${item.found}`;
}

export function describeResolved(r: ResolvedDrift): string {
  const how = r.resolution === 'healed' ? 'undone by berth' : r.resolution === 'committed' ? 'now desired by a commit' : 'fixed outside berth';
  return `${r.item.stack}/${r.item.object}: ${r.item.kind} ${r.item.aspect} (since ${r.since}) — ${how}`;
}
