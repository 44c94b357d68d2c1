import type { MountSpec } from '../src/model/desired.js';
import { canonicalJson } from '../src/compose/hash.js';

/**
 * A decrypted SOPS file mounted at the same place, whose plaintext changed:
 * its content-addressed source path moved. Said as `secret db changed (value
 * hidden)` rather than as a mount change, and left out of the mount diff.
 */
export function secretMountReasons(before: MountSpec[], after: MountSpec[]): { reasons: string[]; before: MountSpec[]; after: MountSpec[] } {
  const reasons: string[] = [];
  const same = new Set<string>();
  for (const a of after) {
    if (a.type !== 'bind' || !a.secret) continue;
    const b = before.find((m) => m.target === a.target);
    if (!b || b.type !== 'bind') continue;
    const strip = (m: MountSpec) => canonicalJson({ ...m, source: null });
    if (strip(a) !== strip(b)) continue;
    same.add(a.target);
    // One secret mounted at two places is one reason.
    if (a.source !== b.source && !reasons.includes(`${a.secret} changed (value hidden)`)) reasons.push(`${a.secret} changed (value hidden)`);
  }
  return { reasons: reasons.sort(), before: before.filter((m) => !same.has(m.target)), after: after.filter((m) => !same.has(m.target)) };
}
