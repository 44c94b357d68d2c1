import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ChatMessage, Notifier } from '../ports/notifier.js';

/**
 * Delivery that never blocks the caller and does not lose messages to a short
 * outage (issue 6 §4). Each notifier has its own bounded queue and one worker, so
 * a dead Teams flow does not delay Slack, and messages to one chat arrive in the
 * order they were enqueued.
 *
 *  - enqueue() only pushes and returns; a full queue drops its oldest message (logged).
 *  - The worker sends one message at a time, at most one request per
 *    `minIntervalMs` per notifier (Slack allows about one message a second per
 *    webhook, Teams four a second).
 *  - A failure is retried with exponential backoff (base × 2^(n-1), capped); on
 *    429 and 503 the server's Retry-After replaces the backoff. A request that got
 *    no response (timeout, refused) is retried; other 4xx answers are permanent
 *    (a revoked or mistyped webhook does not heal) and the message is dropped at once.
 *  - After `maxAttempts` failures the message is logged and dropped.
 *  - drain(timeoutMs) waits for the queues to empty, for shutdown.
 *  - sendNow() is `berth notify test`: once per notifier, no queue, no retry.
 *
 * Logs name the notifier (`name`), the message kind and title, never the URL.
 */
export interface DispatcherOptions {
  maxQueue?: number;
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Least time between two requests to the same notifier. */
  minIntervalMs?: number;
  /** Longest Retry-After honoured; a longer one is cut to this. */
  maxRetryAfterMs?: number;
}

export type DispatcherLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface SendResult {
  name: string;
  ok: boolean;
  error: string | null;
}

interface Lane {
  notifier: Notifier;
  queue: ChatMessage[];
  running: boolean;
  /** When the last request to this notifier started (clock ms), null before the first. */
  lastStart: number | null;
  dropped: number;
  idle: (() => void)[];
}

const DEFAULTS: Required<DispatcherOptions> = {
  maxQueue: 100,
  maxAttempts: 6,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  minIntervalMs: 1_000,
  maxRetryAfterMs: 600_000,
};

export class NotifyDispatcher {
  private readonly lanes: Lane[];
  private readonly opts: Required<DispatcherOptions>;
  /** Aborted when drain() gives up: ends every wait, workers stop after their current request. */
  private readonly stop = new AbortController();

  constructor(
    notifiers: readonly Notifier[],
    private readonly clock: Pick<Clock, 'now' | 'sleep'>,
    private readonly log: DispatcherLogger,
    options: DispatcherOptions = {},
  ) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as DispatcherOptions;
    this.opts = { ...DEFAULTS, ...given };
    if (this.opts.maxQueue < 1) this.opts.maxQueue = 1;
    if (this.opts.maxAttempts < 1) this.opts.maxAttempts = 1;
    this.lanes = notifiers.map((notifier) => ({ notifier, queue: [], running: false, lastStart: null, dropped: 0, idle: [] }));
  }

  /** Queue `msg` for every notifier. Never waits, never throws. */
  enqueue(msg: ChatMessage): void {
    if (this.stop.signal.aborted) {
      this.log.warn({ kind: msg.kind, title: msg.title }, 'notify: dispatcher stopped, message not sent');
      return;
    }
    for (const lane of this.lanes) {
      lane.queue.push(msg);
      if (lane.queue.length > this.opts.maxQueue) {
        const old = lane.queue.shift()!;
        lane.dropped++;
        this.log.warn(
          { notifier: lane.notifier.name, kind: old.kind, title: old.title, maxQueue: this.opts.maxQueue, droppedTotal: lane.dropped },
          'notify: queue full, dropped the oldest message',
        );
      }
      if (!lane.running) {
        lane.running = true;
        // Start on a later tick: the caller's synchronous work is never spent on sending.
        setImmediate(() => void this.work(lane));
      }
    }
  }

  /** Messages waiting (not counting ones being sent). */
  pending(): number {
    return this.lanes.reduce((n, l) => n + l.queue.length, 0);
  }

  /**
   * Wait until every queue is empty and no request is in flight, or `timeoutMs`
   * has passed; then stop. Returns how many messages were left undelivered.
   */
  async drain(timeoutMs: number): Promise<{ undelivered: number }> {
    const idle = Promise.all(this.lanes.map((l) => this.whenIdle(l))).then(() => 'idle' as const);
    const timer = new AbortController();
    const timeout = this.clock.sleep(Math.max(0, timeoutMs), timer.signal).then(() => 'timeout' as const);
    const outcome = await Promise.race([idle, timeout]);
    timer.abort();
    let undelivered = 0;
    if (outcome === 'timeout') {
      for (const lane of this.lanes) {
        const left = lane.queue.length + (lane.running ? 1 : 0);
        if (left > 0) {
          this.log.warn({ notifier: lane.notifier.name, undelivered: left }, 'notify: shutting down with undelivered messages');
        }
        undelivered += left;
        lane.queue.length = 0;
      }
    }
    this.stop.abort();
    return { undelivered };
  }

  /** `berth notify test`: one attempt per notifier, in parallel; never throws. */
  async sendNow(msg: ChatMessage): Promise<SendResult[]> {
    return Promise.all(
      this.lanes.map(async ({ notifier }) => {
        try {
          await notifier.send(msg);
          this.log.info({ notifier: notifier.name, kind: msg.kind }, 'notify: sent');
          return { name: notifier.name, ok: true, error: null };
        } catch (err) {
          const e = describe(err);
          this.log.warn({ notifier: notifier.name, kind: msg.kind, status: e.status, error: e.message }, 'notify: send failed');
          return { name: notifier.name, ok: false, error: e.message };
        }
      }),
    );
  }

  private whenIdle(lane: Lane): Promise<void> {
    if (!lane.running && lane.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => lane.idle.push(resolve));
  }

  private async work(lane: Lane): Promise<void> {
    try {
      while (lane.queue.length > 0 && !this.stop.signal.aborted) {
        const msg = lane.queue.shift()!;
        await this.deliver(lane, msg);
      }
    } catch (err) {
      // deliver() handles every send failure; this is a bug guard so a lane never wedges.
      this.log.error({ notifier: lane.notifier.name, error: describe(err).message }, 'notify: worker failed');
    } finally {
      lane.running = false;
      if (lane.queue.length > 0 && !this.stop.signal.aborted) {
        lane.running = true;
        setImmediate(() => void this.work(lane));
      } else {
        for (const resolve of lane.idle.splice(0)) resolve();
      }
    }
  }

  private async deliver(lane: Lane, msg: ChatMessage): Promise<void> {
    const name = lane.notifier.name;
    const { maxAttempts } = this.opts;
    for (let attempt = 1; ; attempt++) {
      await this.spacing(lane);
      if (this.stop.signal.aborted) return;
      lane.lastStart = this.clock.now();
      try {
        await lane.notifier.send(msg);
        if (attempt > 1) this.log.info({ notifier: name, kind: msg.kind, attempts: attempt }, 'notify: delivered after retries');
        return;
      } catch (err) {
        if (this.stop.signal.aborted) return; // drain() already counted it as undelivered
        const e = describe(err);
        const fields = { notifier: name, kind: msg.kind, title: msg.title, attempt, status: e.status, error: e.message };
        if (!retryable(e.status)) {
          this.log.error(fields, 'notify: rejected by the server, message dropped');
          return;
        }
        if (attempt >= maxAttempts) {
          this.log.error(fields, `notify: gave up after ${attempt} attempts, message dropped`);
          return;
        }
        const wait = this.retryDelay(attempt, e);
        this.log.warn({ ...fields, retryInMs: wait }, 'notify: send failed, will retry');
        await this.clock.sleep(wait, this.stop.signal);
        if (this.stop.signal.aborted) return;
      }
    }
  }

  /** Backoff for the retry after failed attempt `attempt` (1-based). */
  private retryDelay(attempt: number, e: { status: number | null; retryAfterMs?: number }): number {
    const { baseBackoffMs, maxBackoffMs, maxRetryAfterMs } = this.opts;
    if ((e.status === 429 || e.status === 503) && e.retryAfterMs !== undefined && e.retryAfterMs > 0) {
      return Math.min(e.retryAfterMs, maxRetryAfterMs);
    }
    return Math.min(maxBackoffMs, baseBackoffMs * 2 ** (attempt - 1));
  }

  private async spacing(lane: Lane): Promise<void> {
    if (lane.lastStart === null || this.opts.minIntervalMs <= 0) return;
    const wait = lane.lastStart + this.opts.minIntervalMs - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait, this.stop.signal);
  }
}

/** No response, 408, 425, 429 and 5xx may pass; any other answer will not change by asking again. */
function retryable(status: number | null): boolean {
  if (status === null) return true;
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function describe(err: unknown): { message: string; status: number | null; retryAfterMs?: number } {
  if (err && typeof err === 'object') {
    const e = err as { message?: unknown; status?: unknown; retryAfterMs?: unknown };
    const status = typeof e.status === 'number' ? e.status : null;
    const retryAfterMs = typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs) ? e.retryAfterMs : undefined;
    const message = typeof e.message === 'string' ? e.message : 'send failed';
    return retryAfterMs === undefined ? { message, status } : { message, status, retryAfterMs };
  }
  return { message: 'send failed', status: null };
}
