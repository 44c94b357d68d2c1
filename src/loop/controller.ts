import { LABEL } from '../labels.js';
import { detectDrift, type DriftItem } from '../drift/detect.js';
import { EMPTY_LEDGER, objectKey, transition, type DriftLedger, type OpenDrift, type ResolvedDrift } from '../drift/lifecycle.js';
import type { Validators } from '../compose/schema.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { Clock } from '../ports/clock.js';
import type { DockerEvent, DockerPort } from '../ports/docker.js';
import { isRemoteRepo, redactUrl, type DesiredSource, type GitPort } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { StateStore } from '../ports/state.js';
import { reconcile, type ReconcileOutcome, type ReconcileResult } from './reconcile.js';
import { SingleFlight } from './single-flight.js';
import type { BakeGate, RolloutResult } from '../rollout/types.js';

/**
 * `berth run`: reconcile on every trigger — the interval (with jitter), a
 * webhook, a file change in a local repo, a Docker event on a managed object —
 * one run at a time, with the safety rules of PRODUCT.md §5:
 *  - a commit that fails validation is not applied; the errors are reported
 *    once per commit, and the last good desired state keeps being enforced;
 *  - a revision whose apply failed is retried with exponential backoff
 *    (capped at the interval) until a new commit arrives;
 *  - git or engine failures are logged, counted and retried; the process stays up.
 */
export interface ControllerOptions {
  repo: string;
  branch: string;
  intervalMs: number;
  /** Host name for messages. */
  name: string;
}

export interface ControllerMetrics {
  observeReconcile(seconds: number, result: 'converged' | 'in_sync' | 'failed' | 'invalid' | 'error'): void;
  gitFetchFailed(): void;
  setRevision(revision: string): void;
  setDrift(items: { stack: string; kind: string }[]): void;
  rolloutFinished?(result: RolloutResult): void;
}

export interface ControllerEvents {
  /** A commit failed validation (called once per commit). */
  invalid?(revision: string | null, errors: Diagnostic[]): void;
  /** A reconcile finished. */
  reconciled?(result: ReconcileResult): void;
  /** Drift that appeared or went away in a pass (each item reported once). */
  driftChanged?(change: { appeared: OpenDrift[]; resolved: ResolvedDrift[] }): void;
}

export interface ControllerDeps {
  docker: DockerPort;
  git: GitPort;
  state: StateStore;
  clock: Clock;
  env: Record<string, string | undefined>;
  log: Logger;
  metrics?: ControllerMetrics;
  validators?: Validators;
  events?: ControllerEvents;
  /** Watch a local repo for changes; returns a stop function. */
  watch?: (dir: string, onChange: () => void) => () => Promise<void>;
  random?: () => number;
  /** Builds the Traefik bake gate from the desired state's berth.yaml (absent: no bake). */
  bake?: (desired: DesiredState) => BakeGate | undefined;
}

export interface ControllerStatus {
  repo: string;
  branch: string;
  ready: boolean;
  running: boolean;
  reconciles: number;
  lastFetched: { revision: string | null; at: string } | null;
  /** The repository could not be fetched (URL credentials redacted); null again after the next good fetch. */
  fetchError: { at: string; message: string; failures: number } | null;
  lastApplied: { revision: string | null; at: string } | null;
  lastResult: { outcome: ReconcileOutcome | 'error'; at: string; durationMs: number; revision: string | null; errors: string[] } | null;
  validationErrors: Diagnostic[];
  backoff: { revision: string | null; until: string; attempts: number } | null;
  /** Services whose rollout at `revision` was rolled back: not retried until a new commit. */
  held: { revision: string | null; services: string[] } | null;
  drift: DriftItem[];
  stacks: { name: string; services: { name: string; state: string; health: string | null }[] }[];
}

/** Rollout gates that fail for reasons outside the new container (see record()). */
const RETRYABLE_GATES = new Set(['docker-error', 'aborted']);

// Anything that can make drift appear or go away (a container started by hand ends a "stopped" drift).
const DOCKER_TRIGGER_ACTIONS = new Set(['die', 'stop', 'kill', 'destroy', 'disconnect', 'connect', 'oom', 'pause', 'unpause', 'rename', 'start', 'create']);

export class Controller {
  private readonly flight: SingleFlight;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribeEvents: (() => void) | null = null;
  private stopWatch: (() => Promise<void>) | null = null;
  private stopped = false;

  private ready = false;
  private lastGood: { source: DesiredSource; desired: DesiredState } | null = null;
  private reportedInvalid: string | null | undefined = undefined;
  private failed: { revision: string | null; attempts: number; until: number } | null = null;
  private held: { revision: string | null; services: Set<string> } | null = null;
  private heldLoaded = false;
  private lastFetched: ControllerStatus['lastFetched'] = null;
  private fetchError: ControllerStatus['fetchError'] = null;
  private lastApplied: ControllerStatus['lastApplied'] = null;
  private lastResult: ControllerStatus['lastResult'] = null;
  private validationErrors: Diagnostic[] = [];
  private drift: DriftItem[] = [];
  private stacks: ControllerStatus['stacks'] = [];
  private eventBackoffMs = 1000;
  /** Stacks this controller manages (desired ∪ last applied); null until the first pass. */
  private knownStacks: Set<string> | null = null;
  /** Docker events arrive in bursts (`docker rm -f` of 30 containers): one pass after the burst, not one per event. */
  private eventTimer: NodeJS.Timeout | null = null;
  private eventBurstStart = 0;
  private eventReasons = new Set<string>();

  constructor(
    private readonly opts: ControllerOptions,
    private readonly deps: ControllerDeps,
  ) {
    this.flight = new SingleFlight((reasons) => this.runOnce(reasons));
  }

  start(): void {
    this.trigger('startup');
    this.scheduleInterval();
    this.subscribeEvents();
    if (!isRemoteRepo(this.opts.repo) && this.deps.watch) {
      this.stopWatch = this.deps.watch(this.opts.repo, () => this.trigger('file-change'));
    }
  }

  trigger(reason: string): void {
    if (this.stopped) return;
    this.flight.trigger(reason);
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

  /** Stop triggers, let the current step finish (apply stops between ops), resolve when idle. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.eventTimer) clearTimeout(this.eventTimer);
    this.unsubscribeEvents?.();
    this.flight.clear();
    this.abort.abort();
    await this.stopWatch?.();
    await this.flight.idle();
  }

  status(): ControllerStatus {
    return {
      repo: this.lastGood?.source.origin ?? redactUrl(this.opts.repo),
      branch: this.opts.branch,
      ready: this.ready,
      running: this.flight.busy,
      reconciles: this.flight.count,
      lastFetched: this.lastFetched,
      fetchError: this.fetchError,
      lastApplied: this.lastApplied,
      lastResult: this.lastResult,
      validationErrors: this.validationErrors,
      backoff: this.failed ? { revision: this.failed.revision, until: new Date(this.failed.until).toISOString(), attempts: this.failed.attempts } : null,
      held: this.held ? { revision: this.held.revision, services: [...this.held.services].sort() } : null,
      drift: this.drift,
      stacks: this.stacks,
    };
  }

  private scheduleInterval(): void {
    if (this.stopped) return;
    // ±10 % jitter so many hosts on one repo do not fetch in lockstep.
    const jitter = 1 + ((this.deps.random ?? Math.random)() * 0.2 - 0.1);
    this.timer = setTimeout(() => {
      this.trigger('interval');
      this.scheduleInterval();
    }, Math.max(100, Math.round(this.opts.intervalMs * jitter)));
    this.timer.unref?.();
  }

  private subscribeEvents(): void {
    if (this.stopped) return;
    this.unsubscribeEvents = this.deps.docker.events(
      (e: DockerEvent) => {
        this.eventBackoffMs = 1000;
        if (!DOCKER_TRIGGER_ACTIONS.has(e.action)) return;
        // Another berth (another state dir) may manage other stacks on the same engine: its churn is not ours.
        const stack = e.labels[LABEL.stack];
        if (stack && this.knownStacks && !this.knownStacks.has(stack)) return;
        this.debouncedEvent(`docker:${e.type}:${e.action}`);
      },
      (err: Error) => {
        // The engine went away (restart, socket gone): resubscribe with backoff.
        this.deps.log.warn({ err: err.message, retryInMs: this.eventBackoffMs }, 'docker event stream ended');
        this.unsubscribeEvents = null;
        const wait = this.eventBackoffMs;
        this.eventBackoffMs = Math.min(this.eventBackoffMs * 2, 30_000);
        setTimeout(() => {
          if (this.stopped) return;
          this.subscribeEvents();
          // Whatever happened while we were deaf is seen by one reconcile. A pass that failed
          // because the engine was going away (a start refused during its shutdown) put the
          // revision in backoff — up to the whole interval — though the revision is not to
          // blame: once the engine answers again, the backoff ends and the host is repaired now.
          void this.deps.docker
            .ping()
            .then(
              () => {
                if (this.failed) this.deps.log.info({ revision: this.failed.revision }, 'the engine answers again; retrying without waiting for the backoff');
                this.failed = null;
              },
              () => undefined,
            )
            .finally(() => this.trigger('docker-reconnect'));
        }, wait).unref?.();
      },
    );
  }

  /** Trigger 300 ms after the last event of a burst, but no later than 2 s after its first. */
  private debouncedEvent(reason: string): void {
    const now = Date.now();
    if (this.eventReasons.size === 0) this.eventBurstStart = now;
    this.eventReasons.add(reason);
    if (this.eventTimer) clearTimeout(this.eventTimer);
    const wait = Math.max(0, Math.min(300, this.eventBurstStart + 2000 - now));
    this.eventTimer = setTimeout(() => {
      this.eventTimer = null;
      const reasons = [...this.eventReasons];
      this.eventReasons.clear();
      for (const r of reasons) this.trigger(r);
    }, wait);
    this.eventTimer.unref?.();
  }

  private async fetchSource(): Promise<DesiredSource | null> {
    const { repo, branch } = this.opts;
    try {
      if (isRemoteRepo(repo)) return await this.deps.git.fetch(repo, branch);
      const info = await this.deps.git.localRevision(repo);
      return { dir: repo, revision: info?.revision ?? null, origin: repo, subject: info?.subject, author: info?.author };
    } catch (e) {
      // The git adapter's messages name the URL with its credentials redacted.
      const message = (e as Error).message;
      this.deps.metrics?.gitFetchFailed();
      this.fetchError = { at: new Date(this.deps.clock.now()).toISOString(), message, failures: (this.fetchError?.failures ?? 0) + 1 };
      this.deps.log.warn({ err: message }, 'fetching the desired state failed; keeping the last good state');
      return null;
    }
  }

  private async runOnce(reasons: string[]): Promise<void> {
    if (this.stopped) return;
    const t0 = this.deps.clock.now();
    const at = () => new Date(this.deps.clock.now()).toISOString();
    let source = await this.fetchSource();
    if (source) {
      this.lastFetched = { revision: source.revision, at: at() };
      this.fetchError = null;
    } else {
      source = this.lastGood?.source ?? null;
    }
    if (!source) {
      this.lastResult = { outcome: 'error', at: at(), durationMs: this.deps.clock.now() - t0, revision: null, errors: ['the desired state could not be fetched yet'] };
      this.deps.metrics?.observeReconcile((this.deps.clock.now() - t0) / 1000, 'error');
      return;
    }
    // The hold survives a restart of berth (else a restart would retry the rollout).
    if (!this.heldLoaded) {
      this.heldLoaded = true;
      const saved = await this.deps.state.readJson<{ revision: string | null; services: string[] }>('held.json').catch(() => null);
      if (saved && Array.isArray(saved.services)) this.held = { revision: saved.revision, services: new Set(saved.services) };
    }
    // A new commit ends the hold on services whose rollout was rolled back.
    if (this.held && this.held.revision !== source.revision) await this.setHeld(null);
    // A revision that failed to apply waits out its backoff (a new commit resets it).
    if (this.failed && this.failed.revision === source.revision && this.deps.clock.now() < this.failed.until) {
      this.deps.log.info({ revision: source.revision, until: new Date(this.failed.until).toISOString(), reasons }, 'revision failed before; waiting for its backoff');
      return;
    }
    try {
      let result = await reconcile(source, this.reconcileDeps(), 'apply');
      if (result.outcome === 'invalid') {
        const errors = result.diagnostics.filter((d) => d.severity === 'error');
        this.validationErrors = errors;
        if (this.reportedInvalid !== source.revision) {
          this.reportedInvalid = source.revision;
          this.deps.log.error(
            { revision: source.revision, errors: errors.map((d) => `${d.file}:${d.line}:${d.col}: ${d.path ? `${d.path}: ` : ''}${d.message}`) },
            'desired state is invalid; not applied, the last good state stays',
          );
          this.deps.events?.invalid?.(source.revision, errors);
        }
        this.deps.metrics?.observeReconcile((this.deps.clock.now() - t0) / 1000, 'invalid');
        this.lastResult = { outcome: 'invalid', at: at(), durationMs: this.deps.clock.now() - t0, revision: source.revision, errors: errors.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`) };
        // Keep enforcing the last good desired state (self-heal still works).
        if (this.lastGood) {
          result = await reconcile(this.lastGood.source, this.reconcileDeps(), 'apply', this.lastGood.desired);
          await this.record(result, reasons, t0, true);
          await this.updateDrift(result);
        }
        return;
      }
      this.validationErrors = [];
      this.reportedInvalid = undefined;
      if (result.outcome !== 'plan-error' && result.desired) this.lastGood = { source, desired: result.desired };
      await this.record(result, reasons, t0, false);
      await this.updateDrift(result);
    } catch (e) {
      const msg = (e as Error).message;
      this.deps.log.error({ err: msg, revision: source.revision, reasons }, 'reconcile failed');
      this.deps.metrics?.observeReconcile((this.deps.clock.now() - t0) / 1000, 'error');
      this.lastResult = { outcome: 'error', at: at(), durationMs: this.deps.clock.now() - t0, revision: source.revision, errors: [msg] };
      this.noteFailure(source.revision);
    }
  }

  private reconcileDeps() {
    return {
      docker: this.deps.docker,
      state: this.deps.state,
      clock: this.deps.clock,
      env: this.deps.env,
      validators: this.deps.validators,
      signal: this.abort.signal,
      bake: this.deps.bake,
      hold: this.held?.services,
    };
  }

  private async setHeld(held: { revision: string | null; services: Set<string> } | null): Promise<void> {
    this.held = held;
    await this.deps.state
      .writeJson('held.json', held ? { revision: held.revision, services: [...held.services].sort() } : null)
      .catch((e: Error) => this.deps.log.warn({ err: e.message }, 'could not save the held rollouts'));
  }

  private noteFailure(revision: string | null): void {
    const attempts = this.failed && this.failed.revision === revision ? this.failed.attempts + 1 : 1;
    // 1/16 of the interval, doubling, never more than the interval.
    const delay = Math.min(this.opts.intervalMs, (this.opts.intervalMs / 16) * 2 ** (attempts - 1));
    this.failed = { revision, attempts, until: this.deps.clock.now() + delay };
  }

  private async record(result: ReconcileResult, reasons: string[], t0: number, lastGood: boolean): Promise<void> {
    const at = new Date(this.deps.clock.now()).toISOString();
    const durationMs = this.deps.clock.now() - t0;
    const rev = result.source.revision;
    const errors = [
      ...(result.plan?.errors.map((e) => `${e.stack}/${e.object}: ${e.message}`) ?? []),
      ...(result.apply?.results.filter((r) => r.status !== 'ok').map((r) => `${r.object}: ${r.error ?? r.status}`) ?? []),
    ];
    const outcome = result.outcome;
    for (const r of result.apply?.results ?? []) if (r.rollout) this.deps.metrics?.rolloutFinished?.(r.rollout.result);
    const metric = outcome === 'converged' ? 'converged' : outcome === 'in-sync' ? 'in_sync' : 'failed';
    this.deps.metrics?.observeReconcile(durationMs / 1000, metric);
    if (!lastGood) this.lastResult = { outcome, at, durationMs, revision: rev, errors };
    if (outcome === 'converged' || outcome === 'in-sync') {
      this.ready = true;
      this.failed = null;
      // With services held back, the host runs this revision only in part: the applied record keeps the previous one.
      if (this.held?.revision !== rev) {
        this.lastApplied = { revision: rev, at };
        if (rev) this.deps.metrics?.setRevision(rev);
      }
    } else if (outcome === 'failed' || outcome === 'plan-error') {
      const results = result.apply?.results ?? [];
      // A gate the new container failed holds the revision; the engine going away or a shutdown
      // in the middle of a rollout says nothing about the change: those are retried with backoff.
      const rolledBack = results.filter((r) => r.rollout && r.rollout.result !== 'succeeded' && !RETRYABLE_GATES.has(r.rollout.gate ?? ''));
      if (rolledBack.length > 0) {
        // No redeploy loop: the rolled-back services (and what was skipped because of them)
        // stay on their old containers until a new commit; the rest of the host is still enforced.
        const services = new Set(this.held?.revision === rev ? this.held.services : []);
        for (const r of results) if (r.status === 'skipped' || rolledBack.includes(r)) services.add(r.object);
        await this.setHeld({ revision: rev, services });
      }
      // Other failures (an engine error, a failed create) are retried with backoff.
      if (results.some((r) => r.status === 'failed' && !rolledBack.includes(r)) || outcome === 'plan-error') this.noteFailure(rev);
      else if (rolledBack.length > 0) this.failed = null;
    }
    const summary = result.plan?.summary;
    this.deps.log.info(
      {
        revision: rev,
        outcome,
        durationMs,
        reasons,
        ops: result.plan?.ops.length ?? 0,
        ...(summary ?? {}),
        failed: result.apply?.results.filter((r) => r.status !== 'ok').length ?? 0,
        ...(errors.length ? { errors } : {}),
        ...(lastGood ? { enforcing: 'last good revision' } : {}),
      },
      'reconcile',
    );
    this.deps.events?.reconciled?.(result);
    this.knownStacks = new Set([...(result.desired?.stacks.map((st) => st.name) ?? []), ...(result.applied?.stacks.map((st) => st.name) ?? [])]);
  }

  /**
   * Drift of this pass: what the host showed before the pass, against what
   * was applied before it. Items berth repaired in this pass are resolved at
   * once ("undone by berth"); the rest stay open until they are gone. The
   * ledger lives in the state dir, so a restart does not announce them again.
   */
  private async updateDrift(result: ReconcileResult): Promise<void> {
    const live = result.live;
    if (!live) return;
    this.stacks = (result.desired?.stacks ?? []).map((s) => ({
      name: s.name,
      services: s.services.map((svc) => {
        const c = live.containers.find((x) => x.name === svc.containerName);
        return { name: svc.name, state: c?.state ?? 'missing', health: c?.health ?? null };
      }),
    }));
    if (!result.applied) return;
    const current = detectDrift(result.applied, live);
    const healed = new Set<string>();
    for (const r of result.apply?.results ?? []) {
      if (r.status !== 'ok') continue;
      const op = result.plan?.ops.find((o) => o.id === r.id);
      if (!op) continue;
      if ('service' in op && typeof op.service === 'object') healed.add(`${op.stack}/${op.service.containerName}`);
      else healed.add(`${op.stack}/${op.object}`);
    }
    const committed = new Set<string>();
    for (const stack of result.desired?.stacks ?? []) {
      for (const svc of stack.services) {
        const before = result.applied.stacks.find((s) => s.name === stack.name)?.services.find((x) => x.name === svc.name);
        if (!before || before.configHash !== svc.configHash) committed.add(`${stack.name}/${svc.containerName}`);
      }
    }
    const now = new Date(this.deps.clock.now());
    const ledger = (await this.deps.state.readJson<DriftLedger>('drift.json').catch(() => null)) ?? EMPTY_LEDGER;
    // Two steps: what the pass saw (new items appear, items gone since the last pass resolve),
    // then what it repaired (those resolve now, as undone by berth).
    const seen = transition(ledger, current, now, healed, committed);
    const remaining = current.filter((i) => !healed.has(objectKey(i)));
    const settled = transition(seen.ledger, remaining, now, healed, committed);
    const resolved = [...seen.resolved, ...settled.resolved];
    if (seen.appeared.length > 0 || resolved.length > 0) {
      await this.deps.state.writeJson('drift.json', settled.ledger);
      for (const a of seen.appeared) this.deps.log.warn({ drift: a.item.id, expected: a.item.expected, found: a.item.found }, 'drift appeared');
      for (const r of resolved) this.deps.log.info({ drift: r.item.id, resolution: r.resolution, since: r.since }, 'drift resolved');
      this.deps.events?.driftChanged?.({ appeared: seen.appeared, resolved });
    }
    this.drift = remaining;
    this.deps.metrics?.setDrift(remaining);
  }
}
