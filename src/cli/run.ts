import { hostname } from 'node:os';
import { watchRepo } from '../adapters/chokidar-watch.js';
import { createLogger } from '../adapters/pino-logger.js';
import { createValidators } from '../compose/schema.js';
import { parseDurationMs } from '../compose/units.js';
import { createMetrics } from '../http/metrics.js';
import { startHttpServer } from '../http/server.js';
import { Controller } from '../loop/controller.js';
import { EventBurst } from '../loop/event-burst.js';
import { createNotifier } from '../adapters/http-notifier.js';
import { ChatBridge } from '../notify/bridge.js';
import { redactUrl } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { CliContext } from './context.js';
import { LiveFeed } from '../ui/feed.js';
import { dashboardStatus, DriftEventLog } from '../ui/status-model.js';
import type { HistoryEntry } from '../ports/state.js';
import { createForge } from '../forge/create.js';
import { DeployStatuses } from '../forge/deploy-status.js';
import { ForgeQueue } from '../forge/queue.js';
import { startHostsLoop, type ActiveLoop } from './run-hosts.js';
import { PreviewRunner } from '../forge/previews.js';
import { resolve } from 'node:path';
import { isRemoteRepo } from '../ports/git.js';
import { GitImageRepo } from '../adapters/git-image-repo.js';
import { runImageAutomation } from '../images/schedule.js';

export interface RunOptions {
  repo?: string;
  branch: string;
  interval: string;
  listen: string;
  name?: string;
  insecureWebhook?: boolean;
  /** Where people reach the dashboard (behind a proxy): the link of commit statuses. */
  publicUrl?: string;
  /** How often image automation lists tags (x-berth.imagePolicy); default 5m. */
  imageInterval?: string;
  /** `--host NAME`: drive only this host of berth.yaml `hosts:` (never DOCKER_HOST). */
  host?: string;
}

/** How long SIGTERM may take before berth exits anyway (the contract says within 30 s). */
const SHUTDOWN_DEADLINE_MS = 25_000;
/** A webhook's pass starts once deliveries have been quiet this long, and no later than the max after the first. */
const WEBHOOK_QUIET_MS = 50;
const WEBHOOK_MAX_WAIT_MS = 1_000;

/**
 * `berth run`: the long-running controller. Returns only when stopped by
 * SIGTERM/SIGINT (exit 0) or when it cannot start (exit 1).
 */
export async function runController(ctx: CliContext, opts: RunOptions, logger?: Logger): Promise<number> {
  if (!opts.repo) {
    ctx.io.err('berth run: --repo DIR|URL is required');
    return 1;
  }
  if (opts.publicUrl !== undefined && !/^https?:\/\/[^/]/i.test(opts.publicUrl)) {
    ctx.io.err(`berth run: --public-url "${opts.publicUrl}" is not an http:// or https:// URL`);
    return 1;
  }
  const intervalMs = parseDurationMs(opts.interval);
  if (intervalMs === null || intervalMs < 1000) {
    ctx.io.err(`berth run: --interval "${opts.interval}" is not a duration of at least 1s (e.g. 30s, 5m, 1h)`);
    return 1;
  }
  const imageIntervalMs = parseDurationMs(opts.imageInterval ?? '5m');
  if (imageIntervalMs === null || imageIntervalMs < 1000) {
    ctx.io.err(`berth run: --image-interval "${opts.imageInterval}" is not a duration of at least 1s (e.g. 1m, 5m, 1h)`);
    return 1;
  }
  const log = logger ?? createLogger({ name: 'berth' });
  const metrics = createMetrics();
  const host = opts.name ?? hostname();
  const chat = new ChatBridge(host, redactUrl(opts.repo), ctx.clock, log, (spec) => createNotifier(spec), () => controllerRef?.activity() ?? 'idle');
  let controllerRef: Controller | null = null;
  // The dashboard's extras, kept here so /api/status stays a synchronous read of memory.
  const driftEvents = new DriftEventLog();
  let recent: HistoryEntry[] = [];
  const refreshHistory = () =>
    ctx.state.readHistory(10).then(
      (h) => {
        recent = h;
        feed.notify();
      },
      (e: Error) => log.warn({ err: e.message }, 'could not read the deploy history'),
    );
  const forgeQueue = new ForgeQueue(ctx.clock, log);
  const deployStatuses = new DeployStatuses(forgeQueue, (spec) => createForge(spec), opts.publicUrl ?? null);
  // The loop the server and the signals drive: this controller, until berth.yaml turns out to have `hosts:`.
  let active: ActiveLoop | null = null;
  const status = () => (active ? active.status() : dashboardStatus(controller.status(), host, recent, driftEvents.list()));
  const feed = new LiveFeed(status);
  const validators = createValidators();
  let switching: Promise<void> | null = null;
  // The one controller of DOCKER_HOST refuses a repo with `hosts:` before touching anything; berth
  // then drives one controller per host instead (run-hosts.ts), on the same server.
  const switchToHosts = () =>
    (switching ??= (async () => {
      await controller.stop();
      active = await startHostsLoop(ctx, { repo: opts.repo!, branch: opts.branch, intervalMs, host: opts.host, name: host, log, metrics, validators, watch: (dir, onChange) => watchRepo(dir, onChange), notify: () => feed.notify(), forge: { queue: forgeQueue, forgeFor: (spec) => createForge(spec), publicUrl: opts.publicUrl ?? null } });
      feed.notify();
    })().catch((e: unknown) => log.error({ err: (e as Error).message }, 'could not start the controllers of berth.yaml `hosts:`')));
  const secret = ctx.io.env.BERTH_WEBHOOK_SECRET && ctx.io.env.BERTH_WEBHOOK_SECRET !== '' ? ctx.io.env.BERTH_WEBHOOK_SECRET : null;
  const controller = new Controller(
    { repo: opts.repo, branch: opts.branch, intervalMs, name: host },
    {
      docker: await ctx.docker(),
      git: ctx.git,
      files: ctx.files,
      state: ctx.state,
      clock: ctx.clock,
      env: ctx.io.env,
      log,
      validators,
      watch: (dir, onChange) => watchRepo(dir, onChange),
      bake: ctx.bake,
      credentials: ctx.credentials,
      registry: ctx.registry,
      secrets: { secrets: await ctx.secrets(), secretFiles: ctx.secretFiles },
      events: {
        invalid: (revision, errors) => (errors.some((d) => d.code === 'hosts-unsupported') ? void switchToHosts() : chat.invalid(revision, errors)),
        applying: (source, desired) => deployStatuses.applying(source.revision, desired.settings.forge),
        reconciled: (result) => {
          chat.reconciled(result);
          deployStatuses.reconciled(result);
          if (result.apply) void refreshHistory();
          feed.notify();
        },
        driftChanged: (change) => {
          driftEvents.record(change);
          chat.driftChanged(change, controllerRef?.status().lastApplied?.revision ?? null);
        },
      },
      metrics: {
        observeReconcile: (seconds, result) => metrics.observeReconcile(seconds, result),
        gitFetchFailed: () => metrics.gitFetchFailed(),
        setRevision: (rev) => metrics.setRevision(rev),
        setDrift: (items) => metrics.setDrift(items),
        rolloutFinished: (result) => metrics.rolloutFinished(result),
      },
    },
  );

  controllerRef = controller;
  const previews = new PreviewRunner({
    git: ctx.git,
    repo: isRemoteRepo(opts.repo) ? opts.repo : resolve(opts.repo),
    // With berth.yaml `hosts:`, each host's part is previewed against that host's engine and state.
    preview: { docker: await ctx.docker(), state: ctx.state, clock: ctx.clock, env: ctx.io.env, validators, files: ctx.files, hosts: () => active?.previewHosts() ?? null },
    deployed: () => (active ? active.deployed() : controller.deployed()),
    forgeFor: (spec) => createForge(spec),
    queue: forgeQueue,
    log,
    host,
    publicUrl: opts.publicUrl ?? null,
  });
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  // Deliveries come in bursts (a push of several commits, redeliveries, many repos' hooks):
  // one pass after the burst. 50 webhooks under a loaded CPU took longer to handle than a
  // no-op pass, and made three passes where one would do.
  const webhooks = new EventBurst(WEBHOOK_QUIET_MS, WEBHOOK_MAX_WAIT_MS, (reasons) => {
    for (const r of reasons) (active ?? controller).trigger(r);
  });
  try {
    server = await startHttpServer({
      listen: opts.listen,
      branch: opts.branch,
      webhookSecret: secret,
      insecureWebhook: opts.insecureWebhook === true,
      metrics,
      isReady: () => (active ? active.isReady() : controller.isReady()),
      status,
      feed,
      uiToken: ctx.io.env.BERTH_UI_TOKEN || null,
      onWebhook: (info) => webhooks.add(`webhook:${info.provider}`),
      onPullRequest: (event) => previews.request(event),
      log,
    });
  } catch (e) {
    ctx.io.err(`berth run: cannot listen on ${opts.listen}: ${(e as Error).message}`);
    return 1;
  }
  log.info(
    { repo: controller.status().repo, branch: opts.branch, intervalMs, listen: server.address, dashboard: `http://${server.address}/`, webhook: secret ? 'signed' : opts.insecureWebhook ? 'insecure' : 'disabled' },
    'berth run started',
  );
  await refreshHistory();
  // `--host` means berth.yaml `hosts:`: the one engine of DOCKER_HOST is never driven.
  if (opts.host !== undefined) void switchToHosts();
  else controller.start();
  const stopImages = ctx.registry
    ? runImageAutomation({
        deps: { repo: new GitImageRepo(), registry: ctx.registry, forgeFor: (spec) => createForge(spec), log },
        url: isRemoteRepo(opts.repo) ? opts.repo : resolve(opts.repo),
        branch: opts.branch,
        intervalMs: imageIntervalMs,
        deployed: () => (active ? active.deployed() : controller.deployed()),
        clock: ctx.clock,
        log,
      })
    : async () => undefined;

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping: finishing the current step');
      const deadline = setTimeout(() => {
        log.warn({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown deadline reached; exiting');
        resolve();
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      webhooks.cancel();
      void controller
        .stop()
        .then(() => switching)
        .then(() => active?.stop())
        .then(() => server.close())
        .then(() => previews.stop())
        .then(() => stopImages())
        .then(() => chat.close())
        .then(() => forgeQueue.drain(5_000))
        .catch((e: unknown) => log.error({ err: (e as Error).message }, 'error while stopping'))
        .finally(() => {
          clearTimeout(deadline);
          resolve();
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.info({}, 'stopped');
  return 0;
}
