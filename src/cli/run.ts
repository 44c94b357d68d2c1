import { hostname } from 'node:os';
import { watchRepo } from '../adapters/chokidar-watch.js';
import { createLogger } from '../adapters/pino-logger.js';
import { createValidators } from '../compose/schema.js';
import { parseDurationMs } from '../compose/units.js';
import { createMetrics } from '../http/metrics.js';
import { startHttpServer } from '../http/server.js';
import { Controller } from '../loop/controller.js';
import { createNotifier } from '../adapters/http-notifier.js';
import { ChatBridge } from '../notify/bridge.js';
import { redactUrl } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { CliContext } from './context.js';

export interface RunOptions {
  repo?: string;
  branch: string;
  interval: string;
  listen: string;
  name?: string;
  insecureWebhook?: boolean;
}

/** How long SIGTERM may take before berth exits anyway (the contract says within 30 s). */
const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * `berth run`: the long-running controller. Returns only when stopped by
 * SIGTERM/SIGINT (exit 0) or when it cannot start (exit 1).
 */
export async function runController(ctx: CliContext, opts: RunOptions, logger?: Logger): Promise<number> {
  if (!opts.repo) {
    ctx.io.err('berth run: --repo DIR|URL is required');
    return 1;
  }
  const intervalMs = parseDurationMs(opts.interval);
  if (intervalMs === null || intervalMs < 1000) {
    ctx.io.err(`berth run: --interval "${opts.interval}" is not a duration of at least 1s (e.g. 30s, 5m, 1h)`);
    return 1;
  }
  const log = logger ?? createLogger({ name: 'berth' });
  const metrics = createMetrics();
  const host = opts.name ?? hostname();
  const chat = new ChatBridge(host, redactUrl(opts.repo), ctx.clock, log, (spec) => createNotifier(spec), () => controllerRef?.status().running ?? false);
  let controllerRef: Controller | null = null;
  const secret = ctx.io.env.BERTH_WEBHOOK_SECRET && ctx.io.env.BERTH_WEBHOOK_SECRET !== '' ? ctx.io.env.BERTH_WEBHOOK_SECRET : null;
  const controller = new Controller(
    { repo: opts.repo, branch: opts.branch, intervalMs, name: host },
    {
      docker: await ctx.docker(),
      git: ctx.git,
      state: ctx.state,
      clock: ctx.clock,
      env: ctx.io.env,
      log,
      validators: createValidators(),
      watch: (dir, onChange) => watchRepo(dir, onChange),
      bake: ctx.bake,
      events: {
        invalid: (revision, errors) => chat.invalid(revision, errors),
        reconciled: (result) => chat.reconciled(result),
        driftChanged: (change) => chat.driftChanged(change, controllerRef?.status().lastApplied?.revision ?? null),
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
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    server = await startHttpServer({
      listen: opts.listen,
      branch: opts.branch,
      webhookSecret: secret,
      insecureWebhook: opts.insecureWebhook === true,
      metrics,
      isReady: () => controller.isReady(),
      status: () => controller.status(),
      onWebhook: (info) => controller.trigger(`webhook:${info.provider}`),
      log,
    });
  } catch (e) {
    ctx.io.err(`berth run: cannot listen on ${opts.listen}: ${(e as Error).message}`);
    return 1;
  }
  log.info(
    { repo: controller.status().repo, branch: opts.branch, intervalMs, listen: server.address, webhook: secret ? 'signed' : opts.insecureWebhook ? 'insecure' : 'disabled' },
    'berth run started',
  );
  controller.start();

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
      void controller
        .stop()
        .then(() => server.close())
        .then(() => chat.close())
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
