import { isInside } from '../compose/mounts.js';
import type { Op } from '../model/plan.js';

/**
 * Bind mounts whose host path lies outside the repository, as plan warnings.
 *
 * Compose lets a file mount any host path — `../../etc:/host-etc`,
 * `/var/run/docker.sock`, a `secrets:` file two directories up — and berth
 * keeps those semantics. But a commit that hands a container a piece of the
 * host should not slip through in a plan line that only says `create:
 * missing`: every container the plan creates or recreates names each such
 * path, resolved (`..` collapsed), so the reviewer sees where it points.
 * Pure: paths are compared as strings (`root` and sources are already
 * absolute); links inside the repository are the loader's to report.
 */
export function hostPathWarnings(root: string, ops: readonly Op[]): string[] {
  const out: string[] = [];
  for (const op of ops) {
    if (op.kind !== 'service.create' && op.kind !== 'service.recreate' && op.kind !== 'service.rolling') continue;
    for (const m of op.service.mounts) {
      // A decrypted SOPS file is berth's own materialization of a repository file, not a piece of the host.
      if (m.type !== 'bind' || m.secret || isInside(root, m.source)) continue;
      out.push(`${op.object} mounts host path ${m.source} at ${m.target}${m.readOnly ? ' (read-only)' : ''}, outside the repository`);
    }
  }
  return out;
}
