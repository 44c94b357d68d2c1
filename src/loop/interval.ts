/**
 * The next `interval` trigger of a loop: ±10 % jitter so many berths (or
 * hosts) on one repo do not fetch in lockstep; never sooner than 100 ms.
 * Unref'd: a pending interval never keeps the process alive.
 */
export function jitteredTimer(intervalMs: number, random: (() => number) | undefined, fire: () => void): NodeJS.Timeout {
  const jitter = 1 + ((random ?? Math.random)() * 0.2 - 0.1);
  const timer = setTimeout(fire, Math.max(100, Math.round(intervalMs * jitter)));
  timer.unref?.();
  return timer;
}
