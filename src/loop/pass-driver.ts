import type { DesiredState } from '../model/desired.js';
import type { ControllerActivity } from '../model/outcome.js';
import type { Clock } from '../ports/clock.js';
import { redactUrl, type DesiredSource } from '../ports/git.js';
import type { ControllerStatus } from './controller.js';
import { EventBurst } from './event-burst.js';
import { RevisionBackoff } from './revision-backoff.js';
import { SingleFlight } from './single-flight.js';

/**
 * How passes are driven, shared by the engine's Controller and the swarm's
 * SwarmController: one pass at a time with the triggers that arrive meanwhile
 * folded into the next (SingleFlight), one pass after a burst of events
 * (EventBurst), a failed revision retried after its backoff (RevisionBackoff)
 * — and what `berth run`, chat and the hosts runner read of it.
 */
export abstract class PassDriver {
  protected readonly flight: SingleFlight;
  /** Events arrive in bursts (`docker rm -f` of 30 containers, a rolling update's task steps): one pass after the burst. */
  protected readonly eventBurst: EventBurst;
  /** A failed revision waits out its backoff; a pass of its own ends it (not only the next interval or event). */
  protected readonly backoff: RevisionBackoff;
  protected stopped = false;
  protected ready = false;
  /** The last desired state that validated: what berth enforces while a newer commit is invalid. */
  protected lastGood: { source: DesiredSource; desired: DesiredState } | null = null;

  protected constructor(clock: Clock, intervalMs: number, burst: { quietMs: number; maxWaitMs: number }) {
    this.flight = new SingleFlight((reasons) => this.runOnce(reasons));
    this.eventBurst = new EventBurst(burst.quietMs, burst.maxWaitMs, (reasons) => {
      for (const r of reasons) this.trigger(r);
    });
    this.backoff = new RevisionBackoff(clock, intervalMs, () => this.trigger('retry'));
  }

  /** One pass; `reasons` are the triggers it answers. */
  protected abstract runOnce(reasons: string[]): Promise<void>;

  trigger(reason: string): void {
    if (!this.stopped) this.flight.trigger(reason);
  }

  isReady(): boolean {
    return this.ready;
  }

  get reconciles(): number {
    return this.flight.count;
  }

  idle(): Promise<void> {
    return this.flight.idle();
  }

  /**
   * A pass is running or queued, or events wait in the burst for one: chat holds drift
   * messages meanwhile, so a burst a slow engine spreads over several passes is still one message.
   */
  busy(): boolean {
    return this.activity() !== 'idle';
  }

  /** See ControllerActivity: chat waits for a pass in flight past its usual hold, not for events. */
  activity(): ControllerActivity {
    return this.flight.busy ? 'pass' : this.eventBurst.pending ? 'events' : 'idle';
  }

  /** The settings and revision berth enforces now (plan previews post with these, never a request's own). */
  deployed(): { settings: DesiredState['settings']; revision: string | null } | null {
    return this.lastGood ? { settings: this.lastGood.desired.settings, revision: this.lastGood.source.revision } : null;
  }

  /** The head of `/api/status` for this host: where the desired state comes from and how the passes go. */
  protected passStatus(repo: string, branch: string): Pick<ControllerStatus, 'repo' | 'branch' | 'ready' | 'running' | 'reconciles'> {
    return { repo: this.lastGood?.source.origin ?? redactUrl(repo), branch, ready: this.ready, running: this.flight.busy, reconciles: this.flight.count };
  }

  /** No trigger from now on: waiting events and the backoff's timer are dropped, and passes queued but not started. */
  protected halt(): void {
    this.stopped = true;
    this.eventBurst.cancel();
    this.backoff.cancelTimer();
    this.flight.clear();
  }
}
