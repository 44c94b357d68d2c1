import { createHash } from 'node:crypto';
import { canonicalJson } from '../compose/hash.js';
import type { OpenDrift, ResolvedDrift } from '../drift/lifecycle.js';
import type { NotifierSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { ControllerActivity, ReconcileResult } from '../model/outcome.js';
import type { SwarmPassResult } from '../model/swarm-outcome.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Notifier } from '../ports/notifier.js';
import { NotifyDispatcher } from './dispatcher.js';
import { hostDown, hostUp } from './host-messages.js';
import { driftAppeared, driftResolved, swarmPassFinished, syncFinished, validationFailed, type MessageContext } from './messages.js';

/**
 * What `berth run` tells chat, and when: a deploy once per revision, a
 * failure once per revision (not once per retry), validation errors once per
 * commit, drift once when it appears and once when it ends. The notifiers
 * come from the last good berth.yaml, so they are rebuilt when it changes.
 */
export class ChatBridge {
  private dispatcher: NotifyDispatcher | null = null;
  private fingerprint = '';
  private deployed: string | null | undefined = undefined;
  private failed: string | null | undefined = undefined;
  /** A revision whose rollout was rolled back: later passes of it (drift repairs) are not "Deployed". */
  private rolledBack: string | null | undefined = undefined;
  /**
   * Drift is held briefly before it is sent, so a burst that the controller
   * sees over several passes (`docker rm -f` of 30 containers takes seconds)
   * still makes one message listing all of it.
   */
  private pending = { appeared: [] as OpenDrift[], resolved: [] as ResolvedDrift[], revision: null as string | null };
  private flushTimer: NodeJS.Timeout | null = null;
  private firstPendingAt = 0;
  static readonly DRIFT_SETTLE_MS = 2_000;
  /** Held no longer than this while only events keep coming (a crash loop must not hide its drift). */
  static readonly DRIFT_MAX_HOLD_MS = 30_000;
  /**
   * A pass in flight at the max hold is let finish first, up to this: it repairs the drift
   * held, and its follow-up sees the rest of the burst (healing 30 removed containers took
   * over 30 s on a loaded CI host, and the burst's tail went out as a second message).
   */
  static readonly DRIFT_PASS_HOLD_MS = 300_000;

  constructor(
    private readonly host: string,
    private readonly repo: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly makeNotifier: (spec: NotifierSpec) => Notifier,
    /** What the controller is doing: drift is held until the burst is over (see flushWhenSettled). */
    private readonly activity: () => ControllerActivity = () => 'idle',
  ) {}

  /** Use these notifiers from now on (no-op when unchanged). */
  configure(specs: NotifierSpec[]): void {
    const usable = specs.filter((s) => s.url.trim() !== '');
    // A hash, not the specs: URLs and secrets are secrets.
    const fp = createHash('sha256').update(canonicalJson(usable)).digest('hex');
    if (fp === this.fingerprint) return;
    this.fingerprint = fp;
    const old = this.dispatcher;
    this.dispatcher = usable.length ? new NotifyDispatcher(usable.map(this.makeNotifier), this.clock, this.log) : null;
    if (old) void old.drain(5_000);
    this.log.info({ notifiers: usable.map((s) => s.name ?? s.type) }, 'notifiers configured');
  }

  private ctx(): MessageContext {
    return { host: this.host, repo: this.repo, at: new Date(this.clock.now()) };
  }

  invalid(revision: string | null, errors: Diagnostic[]): void {
    this.dispatcher?.enqueue(validationFailed(revision, errors, this.ctx()));
  }

  reconciled(result: ReconcileResult): void {
    if (result.desired) this.configure(result.desired.settings.notify);
    const rev = result.source.revision;
    if (result.apply?.results.some((r) => r.rollout && r.rollout.result !== 'succeeded')) this.rolledBack = rev;
    if (result.outcome === 'converged' && this.rolledBack === rev) {
      this.deployed = rev;
    } else if (result.outcome === 'converged' && this.deployed !== rev && (result.applied?.revision ?? null) !== rev) {
      this.deployed = rev;
      this.failed = undefined;
      const msg = syncFinished(result, this.ctx());
      if (msg) this.dispatcher?.enqueue(msg);
    } else if (result.outcome === 'converged' || result.outcome === 'in-sync') {
      this.deployed = rev;
      this.failed = undefined;
    } else if ((result.outcome === 'failed' || result.outcome === 'plan-error') && this.failed !== rev) {
      this.failed = rev;
      const msg = syncFinished(result, this.ctx());
      if (msg) this.dispatcher?.enqueue(msg);
    }
  }

  /**
   * A pass on a swarm host, with the same once-per-revision rules: a deploy is
   * told once, a failure (a rollout Swarm rolled back) once — the passes that
   * follow at that revision, which heal drift but leave the held service, say nothing.
   */
  swarmReconciled(result: SwarmPassResult): void {
    if (result.settings) this.configure(result.settings.notify);
    const rev = result.source.revision;
    if (result.outcome === 'converged' && this.deployed !== rev && this.rolledBack !== rev) {
      this.deployed = rev;
      this.failed = undefined;
      const msg = swarmPassFinished(result, this.ctx());
      if (msg) this.dispatcher?.enqueue(msg);
    } else if (result.outcome === 'converged' || result.outcome === 'in-sync') {
      // At a rolled-back revision the failure stands: told once, not again after a healing pass.
      if (this.rolledBack === rev) return;
      this.deployed = rev;
      this.failed = undefined;
    } else if (this.failed !== rev) {
      this.failed = rev;
      if (result.ops.some((o) => o.result === 'rolled-back')) this.rolledBack = rev;
      const msg = swarmPassFinished(result, this.ctx());
      if (msg) this.dispatcher?.enqueue(msg);
    }
  }

  driftChanged(change: { appeared: OpenDrift[]; resolved: ResolvedDrift[] }, revision: string | null): void {
    if (change.appeared.length === 0 && change.resolved.length === 0) return;
    const now = Date.now();
    if (!this.flushTimer) this.firstPendingAt = now;
    this.pending.appeared.push(...change.appeared);
    this.pending.resolved.push(...change.resolved);
    this.pending.revision = revision;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    const wait = Math.min(ChatBridge.DRIFT_SETTLE_MS, Math.max(0, this.firstPendingAt + ChatBridge.DRIFT_MAX_HOLD_MS - now));
    this.flushTimer = setTimeout(() => this.flushWhenSettled(), wait);
    this.flushTimer.unref?.();
  }

  /**
   * While berth is still reconciling the burst, wait: up to the max hold for events, and
   * past it for a pass in flight (bounded by the pass hold).
   */
  private flushWhenSettled(): void {
    const held = Date.now() - this.firstPendingAt;
    const limit = holdLimit(this.activity());
    if (held < limit) {
      this.flushTimer = setTimeout(() => this.flushWhenSettled(), Math.min(ChatBridge.DRIFT_SETTLE_MS, limit - held));
      this.flushTimer.unref?.();
      return;
    }
    this.flushDrift();
  }

  private flushDrift(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const { appeared, resolved, revision } = this.pending;
    this.pending = { appeared: [], resolved: [], revision: null };
    if (appeared.length) this.dispatcher?.enqueue(driftAppeared(appeared, this.ctx(), revision));
    if (resolved.length) this.dispatcher?.enqueue(driftResolved(resolved, this.ctx(), revision));
  }

  /** The host's engine stopped answering (once per outage: the caller reports changes only), or answers again. */
  hostReachability(up: boolean, docker: string, detail: string | null): void {
    this.dispatcher?.enqueue(up ? hostUp(docker, this.ctx()) : hostDown(docker, detail, this.ctx()));
  }

  async close(): Promise<void> {
    this.flushDrift();
    await this.dispatcher?.drain(5_000);
  }
}

/** How long held drift may wait, given what the controller is doing (0: send it now). */
function holdLimit(activity: ControllerActivity): number {
  if (activity === 'pass') return ChatBridge.DRIFT_PASS_HOLD_MS;
  if (activity === 'events') return ChatBridge.DRIFT_MAX_HOLD_MS;
  return 0;
}
