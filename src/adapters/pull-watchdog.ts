import type { PullLimits } from '../ports/docker.js';

/**
 * Bounds one image pull. The engine puts no deadline on a registry that
 * accepted the connection and then says nothing (Engine 20.10 waits on a
 * manifest request forever), so without this a stalled registry would hang
 * the apply — and `berth run` — for good. Two limits: no progress event for
 * `stallMs` (reset by `progress()`), and `timeoutMs` for the whole pull.
 * When one ends, `signal` aborts (the adapter drops its request to the
 * engine; Engine 20.10 may keep its own registry request open, but berth no
 * longer waits on it) and `expired` says why.
 */
export class PullWatchdog {
  private readonly abort = new AbortController();
  private stall: NodeJS.Timeout | null = null;
  private readonly total: NodeJS.Timeout | null;
  /** Why the pull was stopped (null while it may go on). */
  expired: string | null = null;
  private onExpire: ((why: string) => void) | null = null;

  constructor(private readonly limits: PullLimits = {}) {
    this.total = positive(limits.timeoutMs) ? setTimeout(() => this.expire(`timed out after ${seconds(limits.timeoutMs!)} (images.pullTimeoutSeconds)`), limits.timeoutMs) : null;
    this.progress();
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Called when the pull expires (once). */
  whenExpired(fn: (why: string) => void): void {
    this.onExpire = fn;
    if (this.expired !== null) fn(this.expired);
  }

  /** The registry said something: the stall clock starts again. */
  progress(): void {
    if (this.expired !== null || !positive(this.limits.stallMs)) return;
    if (this.stall) clearTimeout(this.stall);
    this.stall = setTimeout(() => this.expire(`timed out: no progress for ${seconds(this.limits.stallMs!)} (images.pullStallSeconds)`), this.limits.stallMs);
  }

  /** The pull ended (either way): no timer is left behind. */
  done(): void {
    if (this.stall) clearTimeout(this.stall);
    if (this.total) clearTimeout(this.total);
    this.stall = null;
  }

  private expire(why: string): void {
    if (this.expired !== null) return;
    this.expired = why;
    this.done();
    this.abort.abort();
    this.onExpire?.(why);
  }
}

function positive(ms: number | undefined): boolean {
  return ms !== undefined && Number.isFinite(ms) && ms > 0;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
