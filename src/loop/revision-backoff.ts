import type { Clock } from '../ports/clock.js';

/**
 * A revision that failed to apply (an engine error, a failed create) is not
 * tried again by every trigger: it waits 1/16 of the interval, doubling per
 * failure, never more than the interval; then a pass of its own ('retry')
 * tries it. A new commit, or a pass that converges, ends the wait. Both
 * controllers (engine and swarm hosts) use it, so Docker events during an
 * outage of one service do not turn into a redeploy loop.
 */
export class RevisionBackoff {
  private failed: { revision: string | null; attempts: number; until: number } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    /** Called when the wait is over: a pass for the revision, with reason 'retry'. */
    private readonly retry: () => void,
  ) {}

  /** Whether a pass for `revision` with these reasons should wait (the retry timer's own pass never does). */
  waiting(revision: string | null, reasons: string[]): { until: string } | null {
    const f = this.failed;
    if (!f || f.revision !== revision || this.clock.now() >= f.until || reasons.includes('retry')) return null;
    return { until: new Date(f.until).toISOString() };
  }

  /** The revision failed again: wait twice as long as last time. Returns the wait (ms). */
  failedAt(revision: string | null, stopped = false): { attempts: number; delayMs: number } {
    const attempts = this.failed && this.failed.revision === revision ? this.failed.attempts + 1 : 1;
    const delayMs = Math.min(this.intervalMs, (this.intervalMs / 16) * 2 ** (attempts - 1));
    this.failed = { revision, attempts, until: this.clock.now() + delayMs };
    this.cancelTimer();
    if (!stopped) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.retry();
      }, delayMs);
      this.timer.unref?.();
    }
    return { attempts, delayMs };
  }

  /** Nothing waits any more (a pass converged, a rollback held the revision, the engine came back). */
  clear(): void {
    this.failed = null;
    this.cancelTimer();
  }

  /** A pass is about to run: it supersedes a pending retry (if it fails, it schedules the next). */
  cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  get revision(): string | null | undefined {
    return this.failed?.revision;
  }

  /** For /api/status: what waits, until when, after how many attempts. */
  status(): { revision: string | null; until: string; attempts: number } | null {
    return this.failed ? { revision: this.failed.revision, until: new Date(this.failed.until).toISOString(), attempts: this.failed.attempts } : null;
  }
}
