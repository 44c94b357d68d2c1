import type { ServiceSpec } from '../model/desired.js';
import type { PathSeg } from './yaml-source.js';

type Err = (path: PathSeg[], code: string, message: string, key?: boolean) => void;

const UNIT_SECONDS: Record<string, number> = { w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1 };

/** `every_<d>` as Compose writes it: `every_12h`, `every_1w2d`, `every_90m`. null if malformed. */
export function parseEvery(spec: string): number | null {
  const m = /^every_((?:\d+[wdhms])+)$/.exec(spec);
  if (!m) return null;
  let total = 0;
  for (const part of m[1]!.matchAll(/(\d+)([wdhms])/g)) total += Number(part[1]) * UNIT_SECONDS[part[2]!]!;
  return total > 0 ? total : null;
}

/**
 * `pull_policy` into the model. The time-based policies (`daily`, `weekly`,
 * `every_<d>`, `refresh` with `pull_refresh_after`) are their own policy,
 * `interval`, with the interval in seconds: the planner pulls when the image
 * is absent, and re-pulls when the last pull is older than the interval
 * (timed by src/registry/pull-schedule.ts from the state dir's pull times,
 * decided in controllers/image.ts). They never fall back to `missing` silently.
 */
export function normalizePullPolicy(v: unknown, path: PathSeg[], err: Err, refreshAfter?: unknown): PullPolicy {
  if (v === undefined || v === null) return { pullPolicy: 'missing' };
  const s = String(v);
  if (s === 'refresh') {
    const seconds = refreshAfter === undefined ? null : parseEvery(`every_${String(refreshAfter)}`);
    if (seconds === null) {
      err(path, 'pull-policy', '`pull_policy: refresh` needs `pull_refresh_after` as a duration such as 12h, 1d or 1w');
      return { pullPolicy: 'missing' };
    }
    return { pullPolicy: 'interval', pullIntervalSeconds: seconds };
  }
  const parsed = parsePullPolicy(s);
  if (parsed !== null) return parsed;
  err(path, 'pull-policy', 'pull_policy must be always, never, missing, if_not_present, build, daily, weekly or every_<duration> (e.g. every_12h, every_1w2d)');
  return { pullPolicy: 'missing' };
}

export type PullPolicy = Pick<ServiceSpec, 'pullPolicy' | 'pullIntervalSeconds'>;

/**
 * The one parse of a `pull_policy` word (also used by src/registry/pull-schedule.ts,
 * so the schedule and the model never disagree). null when it is not one.
 */
export function parsePullPolicy(s: string): PullPolicy | null {
  if (s === 'always') return { pullPolicy: 'always' };
  if (s === 'never') return { pullPolicy: 'never' };
  if (s === 'missing' || s === 'if_not_present') return { pullPolicy: 'missing' };
  if (s === 'build') return { pullPolicy: 'build' };
  if (s === 'daily') return { pullPolicy: 'interval', pullIntervalSeconds: 86400 };
  if (s === 'weekly') return { pullPolicy: 'interval', pullIntervalSeconds: 7 * 86400 };
  const every = parseEvery(s);
  return every === null ? null : { pullPolicy: 'interval', pullIntervalSeconds: every };
}
