import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * berth's Prometheus metrics (PRODUCT.md §5). Every call to createMetrics()
 * builds its own Registry — never prom-client's global default register — so
 * the CLI owns one instance and tests can build as many as they like.
 */

export const RECONCILE_RESULTS = ['converged', 'in_sync', 'failed', 'invalid', 'error'] as const;
export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

export const ROLLOUT_RESULTS = ['succeeded', 'rolled_back', 'failed'] as const;
export type RolloutResultLabel = (typeof ROLLOUT_RESULTS)[number];

/**
 * Outcomes of `POST /webhook`:
 *  - accepted: authenticated push to our branch (or an unsigned POST with --insecure-webhook) — a reconcile was triggered;
 *  - ignored: authenticated, nothing to do (ping, another branch, a tag, a non-push event);
 *  - unauthorized: missing, malformed or wrong signature/token;
 *  - too_large: body over the cap;
 *  - bad_request: wrong method, or a push event whose payload is not readable;
 *  - timeout: the body did not arrive within the deadline;
 *  - disabled: no secret configured and not --insecure-webhook;
 *  - error: the trigger itself threw.
 */
export const WEBHOOK_RESULTS = ['accepted', 'ignored', 'unauthorized', 'too_large', 'bad_request', 'timeout', 'disabled', 'error'] as const;
export type WebhookResultLabel = (typeof WEBHOOK_RESULTS)[number];

/** 50 ms … 10 min: a no-op pass is sub-second, a pull-and-rollout of many services can take minutes. */
export const RECONCILE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface BerthMetrics {
  readonly registry: Registry;
  /** The registry's exposition text. */
  metrics(): Promise<string>;
  /** The Content-Type to serve metrics() with. */
  readonly contentType: string;
  observeReconcile(seconds: number, result: ReconcileResultLabel): void;
  gitFetchFailed(): void;
  /** The applied revision: the only label set of berth_applied_revision_info. */
  setRevision(revision: string): void;
  /** Drift as seen now: counts per stack and kind; label sets no longer drifting disappear. */
  setDrift(items: { stack: string; kind: string }[]): void;
  rolloutFinished(result: RolloutResultLabel): void;
  webhook(result: WebhookResultLabel): void;
  /**
   * The same series for one berth.yaml host (`berth run` with `hosts:`), labelled `host`;
   * the revision and drift of one host replace only that host's series.
   */
  forHost(host: string): HostMetrics;
  /** `berth_host_up{host}`: 1 while the host's engine answers, 0 while it does not. */
  hostUp(host: string, up: boolean): void;
}

export type HostMetrics = Pick<BerthMetrics, 'observeReconcile' | 'setRevision' | 'setDrift' | 'rolloutFinished'>;

export function createMetrics(): BerthMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const reconcileDuration = new Histogram({
    name: 'berth_reconcile_duration_seconds',
    help: 'Duration of one reconcile pass (fetch, load, observe, plan, apply), in seconds.',
    buckets: RECONCILE_BUCKETS,
    labelNames: ['host'] as const,
    registers: [registry],
  });
  const reconcileTotal = new Counter({
    name: 'berth_reconcile_total',
    help: 'Reconcile passes by result: converged, in_sync, failed, invalid, error.',
    labelNames: ['result', 'host'] as const,
    registers: [registry],
  });
  const driftObjects = new Gauge({
    name: 'berth_drift_objects',
    help: 'Objects that differ from the last applied state, per stack and kind.',
    labelNames: ['stack', 'kind', 'host'] as const,
    registers: [registry],
  });
  const appliedRevision = new Gauge({
    name: 'berth_applied_revision_info',
    help: 'The git revision last applied (value 1 on the current revision only).',
    labelNames: ['revision', 'host'] as const,
    registers: [registry],
  });
  const rolloutsTotal = new Counter({
    name: 'berth_rollouts_total',
    help: 'Service rollouts by result: succeeded, rolled_back, failed.',
    labelNames: ['result', 'host'] as const,
    registers: [registry],
  });
  const gitFetchFailures = new Counter({
    name: 'berth_git_fetch_failures_total',
    help: 'Failed fetches of the desired-state repository.',
    registers: [registry],
  });
  const webhooksTotal = new Counter({
    name: 'berth_webhooks_total',
    help: 'POST /webhook requests by outcome: accepted, ignored, unauthorized, too_large, bad_request, timeout, disabled, error.',
    labelNames: ['result'] as const,
    registers: [registry],
  });

  const hostUp = new Gauge({
    name: 'berth_host_up',
    help: 'Whether the Docker engine of a berth.yaml host answers (1) or not (0).',
    labelNames: ['host'] as const,
    registers: [registry],
  });

  // Known label values start at 0 so rate() and absent-series alerts work from the first scrape.
  for (const r of RECONCILE_RESULTS) reconcileTotal.inc({ result: r }, 0);
  for (const r of ROLLOUT_RESULTS) rolloutsTotal.inc({ result: r }, 0);
  for (const r of WEBHOOK_RESULTS) webhooksTotal.inc({ result: r }, 0);

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    observeReconcile(seconds, result) {
      reconcileDuration.observe(Math.max(0, seconds));
      reconcileTotal.inc({ result });
    },
    gitFetchFailed() {
      gitFetchFailures.inc();
    },
    setRevision(revision) {
      appliedRevision.reset();
      if (revision) appliedRevision.set({ revision }, 1);
    },
    setDrift(items) {
      driftObjects.reset();
      for (const { stack, kind, n } of countByStackKind(items)) driftObjects.set({ stack, kind }, n);
    },
    rolloutFinished(result) {
      rolloutsTotal.inc({ result });
    },
    webhook(result) {
      webhooksTotal.inc({ result });
    },
    forHost(host) {
      for (const r of RECONCILE_RESULTS) reconcileTotal.inc({ result: r, host }, 0);
      for (const r of ROLLOUT_RESULTS) rolloutsTotal.inc({ result: r, host }, 0);
      let revision: string | null = null;
      let drift: { stack: string; kind: string; n: number }[] = [];
      return {
        observeReconcile(seconds, result) {
          reconcileDuration.observe({ host }, Math.max(0, seconds));
          reconcileTotal.inc({ result, host });
        },
        setRevision(rev) {
          if (revision !== null) appliedRevision.remove({ revision, host });
          revision = rev || null;
          if (revision !== null) appliedRevision.set({ revision, host }, 1);
        },
        setDrift(items) {
          for (const { stack, kind } of drift) driftObjects.remove({ stack, kind, host });
          drift = countByStackKind(items);
          for (const { stack, kind, n } of drift) driftObjects.set({ stack, kind, host }, n);
        },
        rolloutFinished(result) {
          rolloutsTotal.inc({ result, host });
        },
      };
    },
    hostUp(host, up) {
      hostUp.set({ host }, up ? 1 : 0);
    },
  };
}

function countByStackKind(items: { stack: string; kind: string }[]): { stack: string; kind: string; n: number }[] {
  const counts = new Map<string, { stack: string; kind: string; n: number }>();
  for (const { stack, kind } of items) {
    const key = JSON.stringify([stack, kind]);
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { stack, kind, n: 1 });
  }
  return [...counts.values()];
}
