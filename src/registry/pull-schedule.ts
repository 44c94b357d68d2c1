import { parsePullPolicy } from '../compose/pull-policy.js';

/**
 * Compose's `pull_policy` as a schedule. `daily`, `weekly` and
 * `every_<duration>` are intervals: the image is checked again (manifest
 * HEAD, pulled when its tag moved) once the last pull or check of it is
 * older than the interval. Keyed on the interval alone, so however the
 * Compose layer spells the policy, this module decides the timing.
 */
export type PullSchedule = { kind: 'missing' } | { kind: 'always' } | { kind: 'never' } | { kind: 'build' } | { kind: 'interval'; ms: number };

/** A pull_policy word (`always`, `daily`, `every_12h`, …) → schedule; unknown → missing (the Compose layer reports it). */
export function pullSchedule(policy: string | null | undefined): PullSchedule {
  const parsed = policy == null ? null : parsePullPolicy(policy);
  return parsed === null ? { kind: 'missing' } : scheduleOf(parsed);
}

/** A service's schedule from the model (`pullPolicy: 'interval'` carries `pullIntervalSeconds`). */
export function scheduleOf(spec: { pullPolicy: string; pullIntervalSeconds?: number }): PullSchedule {
  switch (spec.pullPolicy) {
    case 'always':
      return { kind: 'always' };
    case 'never':
      return { kind: 'never' };
    case 'missing':
      return { kind: 'missing' };
    case 'build':
      return { kind: 'build' };
    case 'interval':
      // A model without its interval is a bug upstream: re-check each pass rather than never.
      return { kind: 'interval', ms: (spec.pullIntervalSeconds ?? 0) * 1000 };
  }
  return pullSchedule(spec.pullPolicy);
}

/**
 * Whether the registry should be asked about the image now: always for
 * `always`, for an interval once `lastMs` (the last pull or check, epoch ms)
 * is older than it or unknown; never for `missing`/`never` (those pull only
 * what is absent).
 */
export function checkDue(schedule: PullSchedule, lastMs: number | undefined, nowMs: number): boolean {
  if (schedule.kind === 'always') return true;
  if (schedule.kind !== 'interval') return false;
  return lastMs === undefined || nowMs - lastMs >= schedule.ms;
}

/**
 * Whether a schedule follows its tag (so a recorded digest pin does not hold it back).
 * `build` follows what the last build made: the container runs the tag, never an earlier pin.
 */
export function followsTag(schedule: PullSchedule): boolean {
  return schedule.kind === 'always' || schedule.kind === 'interval' || schedule.kind === 'build';
}

/** State dir `image-pulls.json`: normalized ref → epoch ms of its last pull or registry check. */
export type PullTimes = Record<string, number>;
