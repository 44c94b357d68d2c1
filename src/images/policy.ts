import semver from 'semver';

/**
 * `x-berth.imagePolicy` of a service: which tags of its image berth may move
 * it to. Either a semver range (`semver: "^1.4"`) or a regular expression
 * (`pattern:`) whose first capture — or the whole tag when it has none — is
 * compared `alphabetical`ly or `numerical`ly. `commit: direct` allows a commit
 * to the deployed branch when no forge is configured.
 */
export type ImagePolicy =
  | { kind: 'semver'; range: string; commit: 'pull-request' | 'direct' }
  | { kind: 'pattern'; pattern: RegExp; order: 'alphabetical' | 'numerical'; commit: 'pull-request' | 'direct' };

type Obj = Record<string, unknown>;

/** The policy of an `x-berth.imagePolicy` value, or why it is not one (the key it concerns, a message). */
export function parseImagePolicy(value: unknown): { policy: ImagePolicy } | { key: string; message: string } {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Obj;
  const commit = v.commit === 'direct' ? 'direct' : 'pull-request';
  if (typeof v.semver === 'string') {
    if (semver.validRange(v.semver) === null) return { key: 'semver', message: `"${v.semver}" is not a semver range (e.g. ^1.4, ~2.0.3, >=1.2 <2)` };
    return { policy: { kind: 'semver', range: v.semver, commit } };
  }
  if (typeof v.pattern === 'string') {
    let pattern: RegExp;
    try {
      // Anchored: a pattern names whole tags, so `1\.\d+` must not match `11.2-rc`.
      pattern = new RegExp(`^(?:${v.pattern})$`);
    } catch (e) {
      return { key: 'pattern', message: `not a regular expression: ${(e as Error).message}` };
    }
    return { policy: { kind: 'pattern', pattern, order: v.order === 'numerical' ? 'numerical' : 'alphabetical', commit } };
  }
  return { key: 'semver', message: 'an imagePolicy needs `semver:` or `pattern:`' };
}

/**
 * The newest tag of `tags` that fits `policy` and is newer than `current`, or
 * null. A current tag outside the policy (e.g. `latest`) is never replaced:
 * berth cannot say what "newer" means for it.
 */
export function newestFittingTag(current: string, tags: readonly string[], policy: ImagePolicy): string | null {
  if (policy.kind === 'semver') {
    const cur = semver.valid(semver.clean(current, { loose: true }) ?? '');
    if (!cur) return null;
    let best: { tag: string; version: string } | null = null;
    for (const tag of tags) {
      const version = semver.clean(tag, { loose: true });
      if (!version || !semver.satisfies(version, policy.range) || !semver.gt(version, cur)) continue;
      if (!best || semver.gt(version, best.version)) best = { tag, version };
    }
    return best?.tag ?? null;
  }
  const key = (tag: string): string | null => {
    const m = policy.pattern.exec(tag);
    return m ? (m[1] ?? m[0]) : null;
  };
  const compare = (a: string, b: string): number => {
    if (policy.order === 'alphabetical') return a < b ? -1 : a > b ? 1 : 0;
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const cur = key(current);
  if (cur === null || (policy.order === 'numerical' && !Number.isFinite(Number(cur)))) return null;
  let best: { tag: string; key: string } | null = null;
  for (const tag of tags) {
    const k = key(tag);
    if (k === null || (policy.order === 'numerical' && !Number.isFinite(Number(k)))) continue;
    if (compare(k, cur) <= 0) continue;
    if (!best || compare(k, best.key) > 0) best = { tag, key: k };
  }
  return best?.tag ?? null;
}
