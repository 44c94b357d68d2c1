import type { Clock } from '../ports/clock.js';
import { ForgeHttpError } from '../ports/forge.js';
import type { Logger } from '../ports/logger.js';

/**
 * Forge calls off the reconcile path, in the style of notify/dispatcher.ts:
 * enqueue() never waits; one worker sends one call at a time, in order. A
 * call whose key is already waiting replaces it (the newer status of a
 * commit, the newer comment of a pull request, win: the older would only be
 * overwritten). No answer, 408, 429 and 5xx are retried with exponential
 * backoff, honouring Retry-After; other 4xx (a bad token, a missing repo) are
 * logged and dropped. Logs name the call, never the token or the body.
 */
export interface ForgeTask {
  key: string;
  /** What the logs call it: `status berth/deploy abc123`, `comment #7`. */
  what: string;
  run(): Promise<unknown>;
}

export interface ForgeQueueOptions {
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  maxRetryAfterMs?: number;
  maxQueue?: number;
}

export class ForgeQueue {
  private readonly queue: ForgeTask[] = [];
  private running = false;
  private idle: (() => void)[] = [];
  private readonly stop = new AbortController();
  private readonly o: Required<ForgeQueueOptions>;

  constructor(
    private readonly clock: Pick<Clock, 'now' | 'sleep'>,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    opts: ForgeQueueOptions = {},
  ) {
    this.o = { maxAttempts: 6, baseBackoffMs: 1_000, maxBackoffMs: 60_000, maxRetryAfterMs: 600_000, maxQueue: 200, ...opts };
  }

  enqueue(task: ForgeTask): void {
    if (this.stop.signal.aborted) return;
    const i = this.queue.findIndex((t) => t.key === task.key);
    if (i >= 0) this.queue[i] = task;
    else this.queue.push(task);
    if (this.queue.length > this.o.maxQueue) {
      const old = this.queue.shift()!;
      this.log.warn({ forge: old.what }, 'forge: queue full, dropped the oldest call');
    }
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.work());
    }
  }

  pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Resolves when nothing waits and nothing is in flight. */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Wait up to `timeoutMs` for the queue to empty, then stop (shutdown). */
  async drain(timeoutMs: number): Promise<void> {
    const t = new AbortController();
    await Promise.race([this.whenIdle(), this.clock.sleep(timeoutMs, t.signal)]);
    t.abort();
    this.stop.abort();
  }

  private async work(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.stop.signal.aborted) await this.deliver(this.queue.shift()!);
    } finally {
      this.running = false;
      if (this.queue.length > 0 && !this.stop.signal.aborted) {
        this.running = true;
        setImmediate(() => void this.work());
      } else for (const r of this.idle.splice(0)) r();
    }
  }

  private async deliver(task: ForgeTask): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await task.run();
        if (attempt > 1) this.log.info({ forge: task.what, attempts: attempt }, 'forge: done after retries');
        return;
      } catch (err) {
        const e = err instanceof ForgeHttpError ? err : new ForgeHttpError((err as Error).message, null);
        const fields = { forge: task.what, attempt, status: e.status, error: e.message };
        const retryable = e.status === null || e.status === 408 || e.status === 429 || e.status >= 500;
        if (!retryable) return void this.log.error(fields, 'forge: refused, call dropped');
        if (attempt >= this.o.maxAttempts) return void this.log.error(fields, `forge: gave up after ${attempt} attempts`);
        const wait =
          e.retryAfterMs !== undefined && e.retryAfterMs > 0 ? Math.min(e.retryAfterMs, this.o.maxRetryAfterMs) : Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** (attempt - 1));
        this.log.warn({ ...fields, retryInMs: wait }, 'forge: call failed, will retry');
        await this.clock.sleep(wait, this.stop.signal);
        if (this.stop.signal.aborted) return;
      }
    }
  }
}
