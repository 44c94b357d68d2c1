import { LABEL } from '../labels.js';
import type { CredentialsPort, RegistryPort } from '../ports/registry.js';
import { detectDrift, type DriftItem } from '../drift/detect.js';
import { replicaSummary, serviceReplicas } from '../drift/replica-status.js';
import { replicaNames } from '../model/replicas.js';
import { EMPTY_LEDGER, noticeAppeared, objectKey, transition, type DriftLedger, type OpenDrift, type ResolvedDrift } from '../drift/lifecycle.js';
import type { LiveState } from '../model/live.js';
import type { AppliedRecord } from '../model/applied.js';
import type { Validators } from '../compose/schema.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { Clock } from '../ports/clock.js';
import type { DockerEvent, DockerPort } from '../ports/docker.js';
import { isRemoteRepo, type DesiredSource, type GitPort } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { StateStore } from '../ports/state.js';
import type { BuildResult } from '../build/phase.js';
import { reconcile, type ReconcileDeps, type RepoFilesDeps, type ReconcileOutcome, type ReconcileResult } from './reconcile.js';
import { jitteredTimer } from './interval.js';
import { PassDriver } from './pass-driver.js';
import { recoverLastGood } from './last-good.js';
import type { BakeGate, RolloutResult } from '../rollout/types.js';

/** Errors of a full or read-only state dir (see retrySoon). */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);
const SOON_RETRY_MS = 5_000;

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
  /**
   * The berth.yaml host this controller drives (several hosts: one controller each, see
   * loop/hosts-runner.ts): it applies that host's part of the desired state only.
   */
  target?: string;
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
  /** An apply of a fetched revision starts (its plan has ops); not for the re-enforced last good state. */
  applying?(source: DesiredSource, desired: DesiredState): void;
  /** Drift that appeared or went away in a pass (each item reported once). */
  driftChanged?(change: { appeared: OpenDrift[]; resolved: ResolvedDrift[] }): void;
  /** A pass of `revision` failed with an error (the engine did not answer, the state dir failed…). */
  failed?(message: string, revision: string | null): void;
  /** After the event stream ended: whether the engine answered the ping before resubscribing (a revision in backoff runs no pass that could tell). */
  engine?(up: boolean, error: string | null): void;
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
  /** Registry credentials for pulls, and the registry client for pull policies. */
  credentials?: CredentialsPort;
  registry?: RegistryPort;
  /** SOPS identities and the place for decrypted files (one keyring for the process: data keys are unwrapped once). */
  secrets?: Pick<ReconcileDeps, 'secrets' | 'secretFiles'>;
  /** Repository files as desired state (content identity, snapshots). */
  files?: RepoFilesDeps;
  /**
   * The desired state fetched by someone else (several hosts share one fetch: loop/hosts-runner.ts);
   * rejects as a fetch would. With it the controller neither fetches, nor times, nor watches the
   * repository itself: the one who fetches triggers it. Docker events of its engine still do.
   */
  fetch?: () => Promise<{ source: DesiredSource; clean: boolean }>;
}

export interface ControllerStatus {
  repo: string;
  branch: string;
  ready: boolean;
  running: boolean;
  reconciles: number;
  lastFetched: { revision: string | null; at: string; subject?: string } | null;
  /** The repository could not be fetched (URL credentials redacted); null again after the next good fetch. */
  fetchError: { at: string; message: string; failures: number } | null;
  lastApplied: { revision: string | null; at: string } | null;
  lastResult: { outcome: ReconcileOutcome | 'error'; at: string; durationMs: number; revision: string | null; errors: string[] } | null;
  validationErrors: Diagnostic[];
  backoff: { revision: string | null; until: string; attempts: number } | null;
  /** Services whose rollout at `revision` was rolled back: not retried until a new commit. */
  held: { revision: string | null; services: string[] } | null;
  drift: DriftItem[];
  stacks: { name: string; services: ServiceStatus[] }[];
}

export interface ServiceStatus {
  name: string;
  state: string;
  health: string | null;
  /** What the container runs: image reference, image ID (digest), the revision label berth gave it. */
  image?: string;
  imageId?: string;
  revision?: string | null;
  /** Managed containers of this service on the host (rollout leftovers not counted). */
  containers?: number;
  /** Replicas wanted and running (`web 2/3 running`). */
  replicas: { desired: number; running: number };
  summary: string;
}

/** Rollout gates that fail for reasons outside the new container (see record()). */
const RETRYABLE_GATES = new Set(['docker-error', 'aborted']);

// Anything that can make drift appear or go away (a container started by hand ends a "stopped" drift).
// Not 'kill' nor 'stop': a container that exits sends 'die', whatever ended it. 'kill' is the
// signal being sent, before the process has exited. 'stop' comes after 'die', when the stop request
// ends (~0.1 s later under load): waiting for it put that time into every heal. (Engine 20.10 sends
// 'die' before its container list shows the exit: see recheckDied.)
const DOCKER_TRIGGER_ACTIONS = new Set(['die', 'destroy', 'disconnect', 'connect', 'oom', 'pause', 'unpause', 'rename', 'start', 'create']);
/**
 * A burst of Docker events (`docker rm -f` of 30 containers) makes one pass: it runs once the
 * events have been quiet for EVENT_QUIET_MS, and no later than EVENT_MAX_WAIT_MS after the first.
 * The quiet window is the healing latency's floor (`docker stop` → started again): 300 ms was
 * most of it. A short one used to split a burst into two chat messages; since drift is announced
 * when a pass observes it and chat holds drift while the controller is busy or events wait here
 * (notify/bridge.ts), a burst spread over several passes is still one message.
 */
const EVENT_QUIET_MS = 50;
const EVENT_MAX_WAIT_MS = 2000;
/** Passes that may still see a died container running before berth stops looking again (see recheckDied). */
const DIED_RECHECKS = 20;

export class Controller extends PassDriver {
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribeEvents: (() => void) | null = null;
  private stopWatch: (() => Promise<void>) | null = null;
  private soonRetry: NodeJS.Timeout | null = null;

  /** The last fetch gave a commit with nothing changed beside it (a clone, or a clean work tree): its files are that commit's. */
  private fetchedClean = false;
  /** See ReconcileDeps.upToDate: lives as long as the desired states it is about. */
  private readonly upToDate: NonNullable<ReconcileDeps['upToDate']> = new WeakMap();
  private reportedInvalid: string | null | undefined = undefined;
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
  /** Containers whose 'die' arrived and that no pass has seen stopped yet, with the passes that saw them running. */
  private readonly died = new Map<string, number>();

  constructor(
    private readonly opts: ControllerOptions,
    private readonly deps: ControllerDeps,
  ) {
    super(deps.clock, opts.intervalMs, { quietMs: EVENT_QUIET_MS, maxWaitMs: EVENT_MAX_WAIT_MS });
  }

  start(): void {
    this.subscribeEvents();
    if (this.deps.fetch) return;
    this.trigger('startup');
    this.scheduleInterval();
    if (!isRemoteRepo(this.opts.repo) && this.deps.watch) {
      this.stopWatch = this.deps.watch(this.opts.repo, () => this.trigger('file-change'));
    }
  }

  /** Stop triggers, let the current step finish (apply stops between ops), resolve when idle. */
  async stop(): Promise<void> {
    this.halt();
    if (this.timer) clearTimeout(this.timer);
    if (this.soonRetry) clearTimeout(this.soonRetry);
    this.unsubscribeEvents?.();
    this.abort.abort();
    await this.stopWatch?.();
    await this.flight.idle();
  }

  status(): ControllerStatus {
    return {
      ...this.passStatus(this.opts.repo, this.opts.branch),
      lastFetched: this.lastFetched,
      fetchError: this.fetchError,
      lastApplied: this.lastApplied,
      lastResult: this.lastResult,
      validationErrors: this.validationErrors,
      backoff: this.backoff.status(),
      held: this.held ? { revision: this.held.revision, services: [...this.held.services].sort() } : null,
      drift: this.drift,
      stacks: this.stacks,
    };
  }

  private scheduleInterval(): void {
    if (this.stopped) return;
    this.timer = jitteredTimer(this.opts.intervalMs, this.deps.random, () => {
      this.trigger('interval');
      this.scheduleInterval();
    });
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
        if (e.type === 'container' && e.action === 'die') this.died.set(e.id, 0);
        if (e.type === 'container' && e.action === 'start') this.died.delete(e.id);
        this.eventBurst.add(`docker:${e.type}:${e.action}`);
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
                if (this.backoff.revision !== undefined) this.deps.log.info({ revision: this.backoff.revision }, 'the engine answers again; retrying without waiting for the backoff');
                this.backoff.clear();
                this.deps.events?.engine?.(true, null);
              },
              (e: Error) => this.deps.events?.engine?.(false, e.message),
            )
            .finally(() => this.trigger('docker-reconnect'));
        }, wait).unref?.();
      },
    );
  }

  /**
   * Engine 20.10 sends a container's 'die' before its container list (a copy it updates last)
   * shows the exit, and before the network 'disconnect's of the clean-up: a pass that starts at
   * once can still see the container running and find nothing to heal, and no later event may
   * come (a crash sends no 'stop'). So while a pass still saw a died container running, look
   * again after the quiet window, a bounded number of times; its 'start' (berth's repair, a
   * restart policy) or a pass that saw it stopped or gone ends that.
   */
  private recheckDied(live: LiveState | null): void {
    if (!live || this.died.size === 0) return;
    let again = false;
    for (const [id, passes] of this.died) {
      const c = live.containers.find((x) => x.id === id);
      if (!c || c.state !== 'running' || passes + 1 >= DIED_RECHECKS) this.died.delete(id);
      else {
        this.died.set(id, passes + 1);
        again = true;
      }
    }
    if (again && !this.stopped) this.eventBurst.add('docker:container:die');
  }

  private async fetchSource(): Promise<DesiredSource | null> {
    const { repo, branch } = this.opts;
    try {
      if (this.deps.fetch) {
        const shared = await this.deps.fetch();
        this.fetchedClean = shared.clean;
        return shared.source;
      }
      if (isRemoteRepo(repo)) {
        const fetched = await this.deps.git.fetch(repo, branch);
        this.fetchedClean = true;
        return fetched;
      }
      const info = await this.deps.git.localRevision(repo);
      this.fetchedClean = info !== null && !info.dirty;
      return { dir: repo, revision: info?.revision ?? null, origin: repo, subject: info?.subject, author: info?.author, dirty: info?.dirty };
    } catch (e) {
      // The git adapter's messages name the URL with its credentials redacted.
      const message = (e as Error).message;
      this.deps.metrics?.gitFetchFailed();
      this.fetchError = { at: new Date(this.deps.clock.now()).toISOString(), message, failures: (this.fetchError?.failures ?? 0) + 1 };
      this.deps.log.warn({ err: message }, 'fetching the desired state failed; keeping the last good state');
      return null;
    }
  }

  protected async runOnce(reasons: string[]): Promise<void> {
    if (this.stopped) return;
    const t0 = this.deps.clock.now();
    const at = () => new Date(this.deps.clock.now()).toISOString();
    // A pass only Docker events asked for (a container stopped: heal it) has nothing new to
    // fetch: the desired state is the last good one, and a git subprocess would only delay the repair.
    // Not while the head is invalid: then every pass must fetch (a fix may have been pushed) and report as such.
    const eventsOnly = this.lastGood !== null && this.reportedInvalid === undefined && reasons.length > 0 && reasons.every((r) => r.startsWith('docker:'));
    let source = eventsOnly ? null : await this.fetchSource();
    if (eventsOnly) {
      source = this.lastGood!.source;
    } else if (source) {
      this.lastFetched = { revision: source.revision, at: at(), ...(source.subject !== undefined ? { subject: source.subject } : {}) };
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
    // A revision that failed to apply waits out its backoff (a new commit resets it); the retry timer ends it.
    const waiting = this.backoff.waiting(source.revision, reasons);
    if (waiting) {
      this.deps.log.info({ revision: source.revision, until: waiting.until, reasons }, 'revision failed before; waiting for its backoff');
      return;
    }
    // This pass supersedes a pending retry; if it fails too, it schedules the next one.
    this.backoff.cancelTimer();
    try {
      const applying = this.deps.events?.applying;
      let result = await reconcile(
        source,
        // A healing pass repairs what ran; it builds nothing (`pull_policy: build` rebuilds on passes that read the repository).
        { ...this.reconcileDeps(), ...(applying ? { onApplying: (desired: DesiredState) => applying(source, desired) } : {}), rebuildAlways: !eventsOnly },
        'apply',
        this.unchangedDesired(source, eventsOnly),
      );
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
        // Stopped by the report (berth switches to one controller per host): enforce nothing more.
        if (this.stopped) return;
        // Keep enforcing the last good desired state (self-heal still works), after a restart too.
        this.lastGood ??= await recoverLastGood(this.opts.repo, source.revision, { ...this.reconcileDeps(), git: this.deps.git, log: this.deps.log });
        if (this.lastGood) {
          result = await reconcile(this.lastGood.source, this.reconcileDeps(), 'apply', this.lastGood.desired);
          await this.record(result, reasons, t0, true);
          await this.updateDrift(result);
          this.recheckDied(result.live);
        }
        return;
      }
      this.validationErrors = [];
      this.reportedInvalid = undefined;
      if (result.outcome !== 'plan-error' && result.desired) this.lastGood = { source, desired: result.desired };
      await this.record(result, reasons, t0, false);
      await this.updateDrift(result);
      this.recheckDied(result.live);
    } catch (e) {
      const msg = (e as Error).message;
      this.deps.log.error({ err: msg, revision: source.revision, reasons }, 'reconcile failed');
      this.deps.metrics?.observeReconcile((this.deps.clock.now() - t0) / 1000, 'error');
      this.lastResult = { outcome: 'error', at: at(), durationMs: this.deps.clock.now() - t0, revision: source.revision, errors: [msg] };
      if (DISK_FULL.has((e as NodeJS.ErrnoException).code ?? '')) this.retrySoon('state-dir-writable?');
      else this.noteFailure(source.revision);
      this.deps.events?.failed?.(msg, source.revision);
    }
  }

  /**
   * A pass that failed for a reason that is not the revision's: berth's own disk is
   * full (or read-only), or the engine refused right after it came back. The backoff
   * (up to the whole interval) left the host unrepaired — a container stopped by hand
   * stayed stopped long after space was freed, a database stayed down after a dockerd
   * restart (found by the soak) — so a retry in a few seconds instead.
   */
  private retrySoon(reason: string): void {
    if (this.soonRetry) return;
    this.soonRetry = setTimeout(() => {
      this.soonRetry = null;
      if (!this.stopped) this.trigger(reason);
    }, SOON_RETRY_MS);
    this.soonRetry.unref?.();
  }

  /**
   * The last good desired state when `source` cannot hold anything else: the same commit
   * with a clean tree (a clone always is), or a pass that fetched nothing. Spares the
   * re-read, YAML parse and schema check of every file on a no-op pass.
   */
  private unchangedDesired(source: DesiredSource, eventsOnly: boolean): DesiredState | undefined {
    const last = this.lastGood;
    if (!last) return undefined;
    if (eventsOnly) return last.desired;
    return this.fetchedClean && source.revision !== null && source.revision === last.source.revision && source.dir === last.source.dir ? last.desired : undefined;
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
      upToDate: this.upToDate,
      ...this.deps.secrets,
      files: this.deps.files,
      onBuild: (b: BuildResult) => this.deps.log.info({ object: b.object, tag: b.tag, result: b.result, durationMs: b.durationMs, ...(b.error ? { error: b.error } : {}) }, 'image build'),
      // One controller per host (hosts-runner.ts); the one of DOCKER_HOST must not land a repo with `hosts:` on one engine.
      ...(this.opts.target !== undefined
        ? { target: this.opts.target }
        : { refuseHosts: 'berth.yaml gained `hosts:` while `berth run` drove the one engine of DOCKER_HOST (it would put every stack there); restart `berth run` to drive each host' }),
      credentials: this.deps.credentials,
      registry: this.deps.registry,
      onObserved: (live: LiveState, applied: AppliedRecord | null) => this.announceAppeared(live, applied),
      // One log line per image (never its credentials: the engine's answer only).
      reporter: {
        pullFinished: (image: string, o: { ok: boolean; durationMs: number; error?: string }) =>
          o.ok ? this.deps.log.info({ image, durationMs: o.durationMs }, 'image pulled') : this.deps.log.warn({ image, durationMs: o.durationMs, err: o.error }, 'image pull failed'),
      },
    };
  }

  private async setHeld(held: { revision: string | null; services: Set<string> } | null): Promise<void> {
    this.held = held;
    await this.deps.state
      .writeJson('held.json', held ? { revision: held.revision, services: [...held.services].sort() } : null)
      .catch((e: Error) => this.deps.log.warn({ err: e.message }, 'could not save the held rollouts'));
  }

  private noteFailure(revision: string | null): void {
    const { attempts, delayMs } = this.backoff.failedAt(revision, this.stopped);
    if (!this.stopped) this.deps.log.info({ revision, attempts, retryInMs: delayMs }, 'revision failed; retrying after its backoff');
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
      this.backoff.clear();
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
      // The first pass after the engine came back may still be refused by it (a start answered
      // "task … already exists" after a dockerd restart, found by the soak): not the revision's
      // fault either, so one quick retry before the backoff (up to the interval) applies.
      if (results.some((r) => r.status === 'failed' && !rolledBack.includes(r)) || outcome === 'plan-error') {
        if (reasons.includes('docker-reconnect')) this.retrySoon('engine-back-retry');
        else this.noteFailure(rev);
      } else if (rolledBack.length > 0) {
        this.backoff.clear();
      }
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
  /**
   * Drift is announced when a pass sees it, before the repair: healing 30 removed
   * containers can take a minute on a loaded host, and a burst the engine spread over
   * two passes must not wait for the first heal (chat would send it as two messages).
   */
  private async announceAppeared(live: LiveState, applied: AppliedRecord | null): Promise<void> {
    if (!applied) return;
    const ledger = (await this.deps.state.readJson<DriftLedger>('drift.json').catch(() => null)) ?? EMPTY_LEDGER;
    const seen = noticeAppeared(ledger, detectDrift(applied, live), new Date(this.deps.clock.now()));
    if (seen.appeared.length === 0) return;
    await this.deps.state.writeJson('drift.json', seen.ledger);
    this.logAppeared(seen.appeared);
    this.deps.events?.driftChanged?.({ appeared: seen.appeared, resolved: [] });
  }

  private logAppeared(appeared: OpenDrift[]): void {
    for (const a of appeared) this.deps.log.warn({ drift: a.item.id, expected: a.item.expected, found: a.item.found }, 'drift appeared');
  }

  private async updateDrift(result: ReconcileResult): Promise<void> {
    const live = result.live;
    if (!live) return;
    const byName = new Map(live.containers.map((c) => [c.name, c]));
    this.stacks = (result.desired?.stacks ?? []).map((s) => ({
      name: s.name,
      services: s.services.map((svc) => {
        const c = byName.get(svc.containerName);
        const { desired, running } = serviceReplicas(svc, byName);
        const containers = live.containers.filter(
          (x) => x.labels[LABEL.stack] === s.name && x.labels[LABEL.service] === svc.name && !x.labels[LABEL.temporary] && !x.labels[LABEL.retired],
        ).length;
        return {
          name: svc.name,
          state: c?.state ?? 'missing',
          health: c?.health ?? null,
          replicas: { desired, running },
          summary: replicaSummary(svc.name, { desired, running }),
          image: c?.image ?? svc.image,
          ...(c ? { imageId: c.imageId, revision: c.labels[LABEL.revision] ?? null } : {}),
          containers,
        };
      }),
    }));
    if (!result.applied) return;
    const current = detectDrift(result.applied, live);
    const healed = new Set<string>();
    for (const r of result.apply?.results ?? []) {
      if (r.status !== 'ok') continue;
      const op = result.plan?.ops.find((o) => o.id === r.id);
      if (!op) continue;
      if (op.kind === 'service.rolling') for (const step of op.steps) healed.add(`${op.stack}/${step.containerName}`);
      else if ('service' in op && typeof op.service === 'object') healed.add(`${op.stack}/${op.service.containerName}`);
      else healed.add(`${op.stack}/${op.object}`);
    }
    const committed = new Set<string>();
    for (const stack of result.desired?.stacks ?? []) {
      for (const svc of stack.services) {
        const before = result.applied.stacks.find((s) => s.name === stack.name)?.services.find((x) => x.name === svc.name);
        if (!before || before.configHash !== svc.configHash) for (const name of replicaNames(svc)) committed.add(`${stack.name}/${name}`);
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
      this.logAppeared(seen.appeared);
      for (const r of resolved) this.deps.log.info({ drift: r.item.id, resolution: r.resolution, since: r.since }, 'drift resolved');
      this.deps.events?.driftChanged?.({ appeared: seen.appeared, resolved });
    }
    this.drift = remaining;
    this.deps.metrics?.setDrift(remaining);
  }
}
