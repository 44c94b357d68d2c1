import PQueue from 'p-queue';

/**
 * One run at a time; triggers that arrive while one runs coalesce into
 * exactly one follow-up run (with all their reasons). A burst of 100
 * webhooks during a reconcile yields one more reconcile, not 100.
 */
export class SingleFlight {
  private readonly queue = new PQueue({ concurrency: 1 });
  private pendingReasons: string[] | null = null;
  private runs = 0;

  constructor(private readonly run: (reasons: string[]) => Promise<void>) {}

  trigger(reason: string): void {
    if (this.pendingReasons) {
      if (!this.pendingReasons.includes(reason)) this.pendingReasons.push(reason);
      return;
    }
    const reasons = [reason];
    this.pendingReasons = reasons;
    void this.queue.add(async () => {
      // From here on, new triggers queue a follow-up instead of joining this run.
      this.pendingReasons = null;
      this.runs++;
      await this.run(reasons);
    });
  }

  /** Runs started so far. */
  get count(): number {
    return this.runs;
  }

  get busy(): boolean {
    return this.queue.pending > 0 || this.queue.size > 0;
  }

  /** Resolves when nothing runs and nothing is queued. */
  idle(): Promise<void> {
    return this.queue.onIdle();
  }

  /** Drop a queued follow-up (shutdown); the running one finishes. */
  clear(): void {
    this.queue.clear();
    this.pendingReasons = null;
  }
}
