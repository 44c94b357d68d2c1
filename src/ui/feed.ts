import type { ServerResponse } from 'node:http';

/**
 * The dashboard's live feed: Server-Sent Events carrying the whole status
 * model each time it changes. A page that connects gets the current status at
 * once; after that a message only when the serialized status differs. The
 * status is in memory, so looking every `pollMs` is cheap, and it catches
 * every change without each writer of the status having to announce it
 * (`notify()` lets the ones that do skip the wait).
 */
export interface LiveFeedOptions {
  pollMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs?: number;
}

export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private last = '';
  private poll: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly pollMs: number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly snapshot: () => unknown,
    opts: LiveFeedOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 200;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
  }

  get size(): number {
    return this.clients.size;
  }

  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Reverse proxies (nginx) buffer responses unless told not to; a buffered feed is not live.
      'x-accel-buffering': 'no',
    });
    // A reconnecting page waits a second, not the browser's default three.
    res.write('retry: 1000\n\n');
    this.last = JSON.stringify(this.snapshot() ?? null);
    res.write(`event: status\ndata: ${this.last}\n\n`);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimers();
    });
    this.startTimers();
  }

  /** Send the status now if it changed. */
  notify(): void {
    if (this.clients.size === 0) return;
    const now = JSON.stringify(this.snapshot() ?? null);
    if (now === this.last) return;
    this.last = now;
    for (const res of this.clients) res.write(`event: status\ndata: ${now}\n\n`);
  }

  /** End every stream (server shutdown). */
  close(): void {
    this.stopTimers();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private startTimers(): void {
    if (!this.poll) {
      this.poll = setInterval(() => this.notify(), this.pollMs);
      this.poll.unref();
    }
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        for (const res of this.clients) res.write(': keep-alive\n\n');
      }, this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  private stopTimers(): void {
    if (this.poll) clearInterval(this.poll);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.poll = this.heartbeat = null;
  }
}
