import { secretSafe } from '../../controllers/service.js';
import { LABEL } from '../labels.js';
import type { DesiredState, RepoFileRef } from '../model/desired.js';
import type { LiveContainer } from '../model/live.js';
import type { Plan } from '../model/plan.js';
import { snapshotKey, snapshotKeys, withSnapshotSources, type FileMaterializer } from './snapshot.js';

/**
 * The files step of an apply: before any container of the plan is touched,
 * every snapshot the plan's new containers mount is written, and their specs
 * point at them. A failure here (disk full, a git object gone) fails the
 * apply with nothing changed on the host.
 */
export async function materializePlan(plan: Plan, root: string, store: FileMaterializer): Promise<Plan> {
  const paths = new Map<string, string>();
  const ops = [];
  for (const op of plan.ops) {
    if ((op.kind !== 'service.create' && op.kind !== 'service.recreate') || !op.service.files) {
      ops.push(op);
      continue;
    }
    for (const f of op.service.files) {
      const key = snapshotKey(f);
      if (key === null || paths.has(key)) continue;
      paths.set(key, await store.materialize(root, f as RepoFileRef & { id: string }, key));
    }
    ops.push({ ...op, service: secretSafe(withSnapshotSources(op.service, paths)) });
  }
  return { ...plan, ops };
}

/** Snapshots still needed: named by a container on the host (running or not), or used by the desired state. */
export function snapshotsInUse(desired: DesiredState | null, containers: LiveContainer[]): Set<string> {
  const keep = new Set<string>();
  for (const c of containers) for (const k of (c.labels[LABEL.files] ?? '').split(',')) if (k) keep.add(k);
  for (const s of desired?.stacks ?? []) for (const svc of s.services) for (const k of snapshotKeys(svc)) keep.add(k);
  return keep;
}
