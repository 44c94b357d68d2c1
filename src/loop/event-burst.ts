/**
 * Events come in bursts (`docker rm -f` of 30 containers, a rolling update's task
 * steps): one pass per burst, run once the events have been quiet for `quietMs`,
 * and no later than `maxWaitMs` after the burst's first. `fire` gets the burst's
 * distinct reasons. Both controllers (engine and swarm hosts) use it.
 */
export class EventBurst {
  private timer: NodeJS.Timeout | null = null;
  private start = 0;
  private readonly reasons = new Set<string>();

  constructor(
    private readonly quietMs: number,
    private readonly maxWaitMs: number,
    private readonly fire: (reasons: string[]) => void,
  ) {}

  /** Events wait for their pass (chat holds drift messages meanwhile). */
  get pending(): boolean {
    return this.timer !== null;
  }

  add(reason: string): void {
    const now = Date.now();
    if (this.reasons.size === 0) this.start = now;
    this.reasons.add(reason);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const reasons = [...this.reasons];
      this.reasons.clear();
      this.fire(reasons);
    }, Math.max(0, Math.min(this.quietMs, this.start + this.maxWaitMs - now)));
    this.timer.unref?.();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.reasons.clear();
  }
}
