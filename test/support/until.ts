import type { ChildProcess } from 'node:child_process';

/**
 * Polls `fn` until it returns something truthy, for tests and benches that wait on a
 * real engine or a running `berth run`. A throw counts as "not yet" (the engine or the
 * HTTP server may not answer while it starts); the last one is named on time-out, with
 * whatever `context` returns (usually the tail of berth's log), so a failure explains itself.
 *
 * The bound is a safety net, never a measurement: tests must not assert on how long this took.
 */
export interface UntilOptions {
  /** Pause between polls (ms). */
  everyMs?: number;
  /** Extra text for the time-out error, e.g. the tail of berth's log. */
  context?: () => string;
}

export async function until<T>(
  what: string,
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  opts: UntilOptions | (() => string) = {},
): Promise<T> {
  // A bare function is the `context` (berth's log tail).
  const options: UntilOptions = typeof opts === 'function' ? { context: opts } : opts;
  const everyMs = options.everyMs ?? 100;
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > end) {
      const why = lastError === undefined ? '' : `\nlast error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      const context = options.context ? `\n--- berth logs ---\n${options.context().slice(-4000)}` : '';
      throw new Error(`timed out waiting for ${what}${why}${context}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** SIGTERM a child berth and wait for it to exit. */
export async function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
