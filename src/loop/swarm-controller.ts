import { loadDesiredStateWithSecrets } from '../compose/load-secrets.js';
import type { Validators } from '../compose/schema.js';
import type { DriftItem } from '../drift/detect.js';
import { EMPTY_LEDGER, noticeAppeared, transition, type DriftLedger, type OpenDrift, type ResolvedDrift } from '../drift/lifecycle.js';
import { identifiedDesired } from '../files/identify.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { SwarmPassResult } from '../model/swarm-outcome.js';
import type { Clock } from '../ports/clock.js';
import type { DesiredSource } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { StateStore } from '../ports/state.js';
import type { SwarmEvent, SwarmPort } from '../ports/swarm.js';
import type { SwarmBakeGate } from '../rollout/types.js';
import { applySwarm, materialContent } from '../swarm/apply.js';
import type { SwarmAppliedRecord, SwarmDriftItem } from '../swarm/drift.js';
import { liveShape } from '../swarm/engine-spec.js';
import { driftOnManager, planOnManager, readSwarmApplied, recordSwarmApplied } from '../swarm/host.js';
import type { SwarmPlan } from '../swarm/plan.js';
import { pendingOps } from '../swarm/render.js';
import { swarmServiceName } from '../swarm/shape.js';
import { targetPart } from '../targets/targets.js';
import type { ControllerMetrics, ControllerStatus } from './controller.js';
import type { HostController, SharedFetch } from './hosts-runner.js';
import { PassDriver } from './pass-driver.js';
import type { RepoFilesDeps, ReconcileDeps } from './reconcile.js';

/**
 * `berth run` on a `mode: swarm` host: what Controller is to an engine host,
 * over the SwarmPort. The runner's triggers (interval, webhook, file watch)
 * and the manager's service and node events start a pass: observe the
 * manager, plan (src/swarm/plan.ts), apply with its gates. Drift against the
 * applied record is told when it appears and when it ends (healed by the
 * pass, per selfHeal). A service whose update Swarm rolled back is held at
 * that revision — left out of the passes that follow — until a new commit;
 * every other failure is retried after a backoff (loop/revision-backoff.ts).
 */
export interface SwarmControllerDeps {
  swarm: () => Promise<SwarmPort>;
  /** The runner's fetch (hosts-runner.ts): this controller never fetches itself. */
  fetch: SharedFetch['fetch'];
  state: StateStore;
  clock: Clock;
  env: Record<string, string | undefined>;
  log: Logger;
  validators?: Validators;
  secrets?: Pick<ReconcileDeps, 'secrets'>['secrets'];
  files: Pick<RepoFilesDeps, 'git' | 'hasher'>;
  /** A repository file a swarm config/secret is made from (never logged). */
  readFile: (path: string) => Promise<Buffer>;
  /** Builds the Traefik bake from the desired state's berth.yaml (absent: no bake), as on engine hosts. */
  bake?: (desired: DesiredState) => SwarmBakeGate | undefined;
  metrics?: Pick<ControllerMetrics, 'observeReconcile' | 'setRevision' | 'setDrift'>;
  events?: {
    invalid?(revision: string | null, errors: Diagnostic[]): void;
    reconciled?(result: SwarmPassResult): void;
    /** A pass that threw (the manager did not answer, the state dir failed…). */
    failed?(message: string, revision: string | null): void;
    driftChanged?(change: { appeared: OpenDrift[]; resolved: ResolvedDrift[] }): void;
  };
  pollMs?: number;
}

const HELD = 'swarm-held.json';
const RECHECK_MS = 3_000;
const LEDGER = 'swarm-drift.json';

export class SwarmController extends PassDriver implements HostController {
  private unsubscribe: (() => void) | null = null;
  private eventBackoffMs = 1000;
  private reportedInvalid: string | null | undefined = undefined;
  private held: { revision: string | null; services: string[] } | null = null;
  private ledger: DriftLedger | null = null;
  /** Service names of the stacks this host runs: their events trigger a pass, others' do not. */
  private known = new Set<string>();
  private last: Pick<ControllerStatus, 'lastFetched' | 'lastApplied' | 'lastResult' | 'validationErrors' | 'drift' | 'stacks'> = {
    lastFetched: null,
    lastApplied: null,
    lastResult: null,
    validationErrors: [],
    drift: [],
    stacks: [],
  };

  constructor(
    private readonly opts: { repo: string; branch: string; target: string; intervalMs: number },
    private readonly deps: SwarmControllerDeps,
  ) {
    // One pass after a burst of events (a rolling update sends one per task step), at most 2 s after its first.
    super(deps.clock, opts.intervalMs, { quietMs: 300, maxWaitMs: 2000 });
  }

  start(): void {
    this.subscribe();
  }

  async stop(): Promise<void> {
    this.halt();
    if (this.recheck) clearTimeout(this.recheck);
    this.unsubscribe?.();
    await this.flight.idle();
  }

  status(): ControllerStatus {
    return {
      ...this.passStatus(this.opts.repo, this.opts.branch),
      fetchError: null,
      backoff: this.backoff.status(),
      held: this.held,
      ...this.last,
    };
  }

  /** The host's drift against `record` (none without one: nothing applied yet) and its nodes that are not ready. */
  private async driftNow(swarm: SwarmPort, record: SwarmAppliedRecord | null): Promise<DriftItem[]> {
    return [...(record ? (await driftOnManager(swarm, record)).map(asDriftItem) : []), ...(await nodesDown(swarm, this.opts.target))];
  }

  /** Drift that appeared is logged; a change either way is told (chat, the dashboard's feed). */
  private tellDrift(appeared: OpenDrift[], resolved: ResolvedDrift[]): void {
    for (const d of appeared) this.deps.log.warn({ drift: d.item.id, found: d.item.found }, 'drift appeared');
    if (appeared.length > 0 || resolved.length > 0) this.deps.events?.driftChanged?.({ appeared, resolved });
  }

  private recheck: NodeJS.Timeout | null = null;
  private recheckSoon(): void {
    if (this.recheck || this.stopped) return;
    this.recheck = setTimeout(() => {
      this.recheck = null;
      this.trigger('swarm-tasks-recheck');
    }, RECHECK_MS);
    this.recheck.unref?.();
  }

  private subscribe(): void {
    if (this.stopped) return;
    void this.deps.swarm().then(
      (swarm) => {
        if (this.stopped) return;
        this.unsubscribe = swarm.events(
          (e) => {
            this.eventBackoffMs = 1000;
            if (this.concerns(e)) this.eventBurst.add(`swarm:${e.type}:${e.action}`);
          },
          (err) => this.resubscribe(err),
        );
      },
      (err: Error) => this.resubscribe(err),
    );
  }

  private resubscribe(err: Error): void {
    this.unsubscribe = null;
    if (this.stopped) return;
    this.deps.log.warn({ err: err.message, retryInMs: this.eventBackoffMs }, 'swarm event stream ended');
    const wait = this.eventBackoffMs;
    this.eventBackoffMs = Math.min(this.eventBackoffMs * 2, 30_000);
    setTimeout(() => {
      this.subscribe();
      // Whatever happened while berth was deaf is seen by one pass.
      this.trigger('swarm-reconnect');
    }, wait).unref?.();
  }

  /** A node's state changes every task on it; a service event matters when it is one of this host's. */
  private concerns(e: SwarmEvent): boolean {
    return e.type === 'node' || this.known.has(e.name);
  }

  /** The desired state of this host at the fetched revision, or the last good one when that commit is invalid. */
  private async desiredFor(source: DesiredSource): Promise<{ source: DesiredSource; desired: DesiredState } | null> {
    if (this.lastGood && this.lastGood.source.revision === source.revision && source.revision !== null) return this.lastGood;
    const loaded = await loadDesiredStateWithSecrets(source.dir, { env: this.deps.env, validators: this.deps.validators, secrets: this.deps.secrets });
    let diagnostics = loaded.diagnostics;
    if (loaded.state) {
      const identified = await identifiedDesired(targetPart(loaded.state, this.opts.target), source, this.deps.files.git, this.deps.files.hasher);
      if (identified.desired) {
        this.last.validationErrors = [];
        return (this.lastGood = { source, desired: identified.desired });
      }
      diagnostics = identified.diagnostics;
    }
    this.last.validationErrors = diagnostics;
    if (this.reportedInvalid !== source.revision) {
      this.reportedInvalid = source.revision;
      this.deps.log.warn({ revision: source.revision, errors: diagnostics.length }, 'commit is invalid; the swarm keeps the last good state');
      this.deps.events?.invalid?.(source.revision, diagnostics);
    }
    return this.lastGood;
  }

  protected async runOnce(reasons: string[]): Promise<void> {
    if (this.stopped) return;
    const t0 = this.deps.clock.now();
    const at = () => new Date(this.deps.clock.now()).toISOString();
    let fetched: DesiredSource;
    try {
      fetched = (await this.deps.fetch()).source;
      this.last.lastFetched = { revision: fetched.revision, at: at(), ...(fetched.subject !== undefined ? { subject: fetched.subject } : {}) };
    } catch {
      // The runner logged and counted the fetch failure; the last good state is enforced meanwhile.
      if (!this.lastGood) return;
      fetched = this.lastGood.source;
    }
    let revision: string | null = fetched.revision;
    try {
      const good = await this.desiredFor(fetched);
      if (!good) return;
      const { source, desired } = good;
      revision = source.revision;
      this.known = new Set(desired.stacks.flatMap((st) => st.services.map((s) => swarmServiceName(st.name, s.name))));
      const swarm = await this.deps.swarm();
      await this.loadPersisted();
      if (this.held && this.held.revision !== source.revision) await this.setHeld(null);
      const waiting = this.backoff.waiting(source.revision, reasons);
      if (waiting) {
        this.deps.log.info({ revision: source.revision, until: waiting.until, reasons }, 'revision failed before; waiting for its backoff');
        return;
      }
      this.backoff.cancelTimer();

      // Drift first, told now (a heal can take a rollout's time), resolved after the pass.
      const record = await readSwarmApplied(this.deps.state);
      const noticed = noticeAppeared(this.ledger!, await this.driftNow(swarm, record), new Date(this.deps.clock.now()));
      await this.saveLedger(noticed.ledger);
      this.tellDrift(noticed.appeared, []);

      const plan = withoutHeld(await planOnManager(swarm, desired), this.held);
      let result: SwarmPassResult;
      if (plan.errors.length > 0) {
        result = { outcome: 'plan-error', source, settings: desired.settings, ops: [], errors: plan.errors.map((e) => `${e.object}: ${e.message}`), durationMs: 0 };
      } else if (pendingOps(plan).length === 0) {
        result = { outcome: 'in-sync', source, settings: desired.settings, ops: [], errors: [], durationMs: 0 };
      } else {
        this.deps.log.info({ revision: source.revision, reasons, ops: pendingOps(plan).length }, 'applying to the swarm');
        const applied = await applySwarm(plan, {
          swarm,
          clock: this.deps.clock,
          readFile: this.deps.readFile,
          material: materialContent(desired),
          revision: source.revision,
          timeoutMs: desired.settings.rollout.healthTimeoutSeconds * 1000,
          bake: this.deps.bake?.(desired),
          ...(this.deps.pollMs !== undefined ? { pollMs: this.deps.pollMs } : {}),
          progress: (op, message) => this.deps.log.info({ object: op.object }, message),
        });
        const ops = applied.results.map((r) => ({ object: r.op.object, kind: r.op.kind, result: r.outcome.result, message: r.outcome.message }));
        for (const o of ops) if (o.result === 'failed' || o.result === 'rolled-back') this.deps.log.warn({ object: o.object, result: o.result, err: o.message }, 'swarm change failed');
        const rolledBack = applied.results.filter((r) => r.outcome.result === 'rolled-back' && r.op.kind === 'service.update').map((r) => r.op.object);
        if (rolledBack.length > 0) {
          this.deps.log.warn({ revision: source.revision, services: rolledBack }, 'rolled back; held until a new commit');
          await this.setHeld({ revision: source.revision, services: [...new Set([...(this.held?.services ?? []), ...rolledBack])].sort() });
        }
        result = { outcome: applied.ok ? 'converged' : 'failed', source, settings: desired.settings, ops, errors: [], durationMs: 0 };
      }
      const after = await recordSwarmApplied(swarm, this.deps.state, desired, source.revision);
      const now = await this.driftNow(swarm, after);
      const touched = new Set(result.ops.filter((o) => o.result === 'ok').map((o) => o.object));
      const moved = transition(noticed.ledger, now, new Date(this.deps.clock.now()), touched);
      await this.saveLedger(moved.ledger);
      // Drift that appeared during the pass (a hand change while it planned) is told now too:
      // opened silently, the next pass would tell only its end.
      this.tellDrift(moved.appeared, moved.resolved);
      this.last.drift = now;
      // Tasks short of their replicas (a node lost, Swarm rescheduling) end without an event berth hears: look again soon.
      if (now.some((d) => d.kind === 'service' && d.aspect === 'stopped')) this.recheckSoon();
      this.deps.metrics?.setDrift(now.map((d) => ({ stack: d.stack, kind: d.kind })));
      this.last.stacks = await stacksStatus(swarm, desired);
      result.durationMs = this.deps.clock.now() - t0;
      this.last.lastResult = { outcome: result.outcome, at: at(), durationMs: result.durationMs, revision: source.revision, errors: result.errors };
      if (result.outcome === 'converged' || result.outcome === 'in-sync') {
        this.last.lastApplied = { revision: source.revision, at: at() };
        if (source.revision) this.deps.metrics?.setRevision(source.revision);
        this.ready = true;
      }
      this.deps.metrics?.observeReconcile(result.durationMs / 1000, result.outcome === 'in-sync' ? 'in_sync' : result.outcome === 'plan-error' ? 'failed' : result.outcome);
      // A failure Swarm rolled back is held (above); any other is retried after its backoff, not by every event.
      if (result.outcome === 'plan-error' || result.ops.some((o) => o.result === 'failed')) this.noteFailure(source.revision);
      else this.backoff.clear();
      this.deps.events?.reconciled?.(result);
    } catch (e) {
      const message = (e as Error).message;
      this.deps.log.warn({ err: message, revision }, 'swarm pass failed');
      this.noteFailure(revision);
      this.last.lastResult = { outcome: 'error', at: at(), durationMs: this.deps.clock.now() - t0, revision, errors: [message] };
      this.deps.metrics?.observeReconcile((this.deps.clock.now() - t0) / 1000, 'error');
      this.deps.events?.failed?.(message, revision);
    }
  }

  private noteFailure(revision: string | null): void {
    const { attempts, delayMs } = this.backoff.failedAt(revision, this.stopped);
    if (!this.stopped) this.deps.log.info({ revision, attempts, retryInMs: delayMs }, 'revision failed; retrying after its backoff');
  }

  /** Holds and the drift ledger survive a restart of `berth run`: a rolled-back revision is not retried, old drift not told again. */
  private async loadPersisted(): Promise<void> {
    if (this.ledger) return;
    this.held = await this.deps.state.readJson<{ revision: string | null; services: string[] }>(HELD);
    this.ledger = (await this.deps.state.readJson<DriftLedger>(LEDGER)) ?? EMPTY_LEDGER;
  }

  private async setHeld(held: { revision: string | null; services: string[] } | null): Promise<void> {
    this.held = held;
    await this.deps.state.writeJson(HELD, held);
  }

  private async saveLedger(ledger: DriftLedger): Promise<void> {
    this.ledger = ledger;
    await this.deps.state.writeJson(LEDGER, ledger);
  }
}

/** The plan without the updates of services held at this revision (their rollout was rolled back). */
function withoutHeld(plan: SwarmPlan, held: { services: string[] } | null): SwarmPlan {
  if (!held || held.services.length === 0) return plan;
  const services = new Set(held.services);
  return { ...plan, ops: plan.ops.filter((o) => !(o.kind === 'service.update' && services.has(o.object))) };
}

/** A swarm drift item in the ledger's terms: kind `service`; a spec changed by hand is `modified`, tasks short of the replicas `stopped`. */
function asDriftItem(d: SwarmDriftItem): DriftItem {
  const aspect = d.aspect === 'spec' ? 'modified' : d.aspect === 'tasks' ? 'stopped' : 'missing';
  // The object is the service's Compose name: `<stack>/<object>` is then the op's object (the heal that resolves it).
  const name = d.object.slice(d.stack.length + 1);
  return { id: `${d.stack}/service/${name}/${aspect}`, stack: d.stack, kind: 'service', object: name, service: name, aspect, expected: d.expected, found: d.found };
}

/**
 * A node that is not ready is drift of the host (kind `node`, listed under the
 * host's name): berth cannot heal it, Swarm moves its tasks; it resolves when
 * the node is back (or removed from the swarm).
 */
async function nodesDown(swarm: SwarmPort, host: string): Promise<DriftItem[]> {
  return (await swarm.nodes())
    .filter((n) => n.state !== 'ready')
    .map((n) => ({ id: `${host}/node/${n.hostname}/stopped`, stack: host, kind: 'node', object: n.hostname, service: null, aspect: 'stopped', expected: 'ready', found: n.state }));
}

/** `/api/status` of a swarm host: per stack, each service's image and running tasks. */
async function stacksStatus(swarm: SwarmPort, desired: DesiredState): Promise<ControllerStatus['stacks']> {
  const live = new Map((await swarm.listServices()).map((s) => [s.name, s]));
  return Promise.all(
    desired.stacks.map(async (st) => ({
      name: st.name,
      services: await Promise.all(
        st.services.map(async (svc) => {
          const s = live.get(swarmServiceName(st.name, svc.name));
          if (!s) return { name: svc.name, state: 'missing', health: null, replicas: { desired: 0, running: 0 }, summary: 'missing' };
          const tasks = (await swarm.listTasks(s.id)).filter((t) => t.desiredState === 'running');
          const shape = liveShape(s.spec, new Map());
          const desiredN = shape.mode === 'global' ? tasks.length : shape.mode.replicated;
          const running = tasks.filter((t) => t.state === 'running').length;
          return { name: svc.name, state: running === desiredN ? 'running' : 'converging', health: null, image: shape.image, replicas: { desired: desiredN, running }, summary: `${running}/${desiredN} running` };
        }),
      ),
    })),
  );
}
