import { createNotifier } from '../adapters/http-notifier.js';
import type { Validators } from '../compose/schema.js';
import type { BerthMetrics } from '../http/metrics.js';
import { Controller } from '../loop/controller.js';
import { HostsRunner, type HostController } from '../loop/hosts-runner.js';
import { SwarmController } from '../loop/swarm-controller.js';
import { readFile } from 'node:fs/promises';
import type { DesiredState, ForgeSpec, TargetSpec } from '../model/desired.js';
import type { PreviewHost } from '../forge/preview.js';
import { HostsDeployStatuses } from '../forge/hosts-deploy-status.js';
import type { ForgeQueue } from '../forge/queue.js';
import type { ForgePort } from '../ports/forge.js';
import { ChatBridge } from '../notify/bridge.js';
import { redactUrl } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { HistoryEntry } from '../ports/state.js';
import type { Diagnostic } from '../model/errors.js';
import { hostsDashboardStatus, type HostPart } from '../ui/hosts-status.js';
import { DriftEventLog } from '../ui/status-model.js';
import { targetContext, type CliContext } from './context.js';

/** What the HTTP server and the signal handler of `berth run` drive: one controller, or one per host. */
export interface ActiveLoop {
  status(): unknown;
  /** The deployed (last good) settings and revision, for previews; null before a good pass. */
  deployed(): { settings: DesiredState['settings']; revision: string | null } | null;
  /** The hosts driven, with their engines and state, for previews; null when berth drives the one engine of DOCKER_HOST. */
  previewHosts(): PreviewHost[] | null;
  isReady(): boolean;
  trigger(reason: string): void;
  stop(): Promise<void>;
}

export interface HostsRunOptions {
  repo: string;
  branch: string;
  intervalMs: number;
  /** `--host NAME`: only this host of berth.yaml. */
  host?: string;
  /** `--name`: the berth instance, for messages that concern every host (an invalid commit). */
  name: string;
  log: Logger;
  metrics: BerthMetrics;
  validators: Validators;
  watch: (dir: string, onChange: () => void) => () => Promise<void>;
  /** The live feed of the dashboard: told whenever a host's state changed. */
  notify: () => void;
  /** Where `berth/deploy` statuses go (berth.yaml `forge:`), one per commit for all hosts. */
  forge: { queue: ForgeQueue; forgeFor: (spec: ForgeSpec) => ForgePort; publicUrl: string | null };
}

interface HostState {
  spec: TargetSpec;
  docker: string;
  up: boolean | null;
  error: string | null;
  history: HistoryEntry[];
  controller: HostController | null;
  chat: ChatBridge;
  /** Its engine and state, for plan previews (read-only); null on a swarm host (previews plan containers). */
  ports: PreviewHost | null;
}

/**
 * `berth run` with berth.yaml `hosts:` (loop/hosts-runner.ts): one fetch, one
 * controller per host on its own engine and state dir. Each host has its own
 * chat bridge, so every message names the host it is about; an outage is told
 * once when the host stops answering and once when it is back, and is
 * `berth_host_up{host}` 0 meanwhile. An invalid commit is the repository's,
 * not a host's: told once, by the berth instance.
 */
export async function startHostsLoop(ctx: CliContext, opts: HostsRunOptions): Promise<ActiveLoop> {
  const { log, metrics } = opts;
  const repoShown = redactUrl(opts.repo);
  const hosts = new Map<string, HostState>();
  const driftEvents = new DriftEventLog();
  const secrets = { secrets: await ctx.secrets(), secretFiles: ctx.secretFiles };
  const repoChat = new ChatBridge(opts.name, repoShown, ctx.clock, log, (spec) => createNotifier(spec), () => runner.activity);
  let invalidReported: string | null = null;
  const deployStatuses = new HostsDeployStatuses(opts.forge.queue, opts.forge.forgeFor, opts.forge.publicUrl, () => runner.hosts().map((l) => l.spec.name));
  const isDown = (name: string) => hosts.get(name)?.up === false;

  const runner: HostsRunner = new HostsRunner(
    { repo: opts.repo, branch: opts.branch, intervalMs: opts.intervalMs, ...(opts.host !== undefined ? { only: opts.host } : {}) },
    {
      git: ctx.git,
      clock: ctx.clock,
      env: ctx.io.env,
      log,
      watch: opts.watch,
      gitFetchFailed: () => metrics.gitFetchFailed(),
      hostsChanged: (specs) => {
        for (const name of hosts.keys()) if (!specs.some((s) => s.name === name)) void hosts.get(name)?.chat.close();
        for (const name of [...hosts.keys()]) if (!specs.some((s) => s.name === name)) hosts.delete(name);
        opts.notify();
      },
      makeController: async (spec, shared) => {
        const tctx = targetContext(ctx, spec, ctx.io);
        const hlog = log.child?.({ host: spec.name }) ?? log;
        const swarmHost = spec.mode === 'swarm';
        const docker = swarmHost ? null : await tctx.docker();
        const m = metrics.forHost(spec.name);
        const host: HostState = {
          spec,
          docker: redactUrl(spec.docker),
          up: null,
          error: null,
          history: [],
          controller: null,
          // Previews plan each host against what berth drives: the engine, or the swarm's manager.
          ports: docker ? { spec, docker, state: tctx.state, files: tctx.files } : tctx.swarm ? { spec, swarm: tctx.swarm, files: tctx.files } : null,
          chat: new ChatBridge(spec.name, repoShown, ctx.clock, hlog, (s) => createNotifier(s), () => host.controller?.activity() ?? 'idle'),
        };
        hosts.set(spec.name, host);
        // `berth status` / `berth drift --host` find the host without the repository.
        await tctx.state.writeJson('target.json', spec).catch((e: Error) => hlog.warn({ err: e.message }, 'could not record the host in its state dir'));
        const reachable = (up: boolean, error: string | null) => {
          const was = host.up;
          host.up = up;
          host.error = error;
          metrics.hostUp(spec.name, up);
          if (was === up || (was === null && up)) return;
          if (up) hlog.info({ docker: host.docker }, 'host answers again');
          else hlog.warn({ docker: host.docker, err: error }, 'host is unreachable; the other hosts are still reconciled');
          host.chat.hostReachability(up, host.docker, error);
          opts.notify();
        };
        const refreshHistory = () =>
          tctx.state.readHistory(10).then(
            (h) => {
              host.history = h;
              opts.notify();
            },
            (e: Error) => hlog.warn({ err: e.message }, 'could not read the deploy history'),
          );
        void refreshHistory();
        const driftChanged = (change: Parameters<ChatBridge['driftChanged']>[0]) => {
          driftEvents.record(change);
          host.chat.driftChanged(change, host.controller?.status().lastApplied?.revision ?? null);
        };
        const invalid = (revision: string | null, errors: Diagnostic[]) => {
          const key = `${revision}\0${errors.map((d) => `${d.file}:${d.line}:${d.col}:${d.message}`).join('\0')}`;
          if (key === invalidReported) return;
          invalidReported = key;
          repoChat.invalid(revision, errors);
        };
        if (!docker) {
          // A swarm host: the same chat, drift log, reachability and metrics, over the SwarmPort.
          const swarm = tctx.swarm!;
          host.controller = new SwarmController(
            { repo: opts.repo, branch: opts.branch, target: spec.name, intervalMs: opts.intervalMs },
            {
              swarm,
              fetch: shared.fetch,
              state: tctx.state,
              clock: ctx.clock,
              env: ctx.io.env,
              log: hlog,
              validators: opts.validators,
              secrets: secrets.secrets,
              files: tctx.files,
              readFile: (path) => readFile(path),
              bake: ctx.swarmBake,
              metrics: m,
              events: {
                invalid,
                reconciled: (result) => {
                  reachable(true, null);
                  if (result.settings) repoChat.configure(result.settings.notify);
                  host.chat.swarmReconciled(result);
                  opts.notify();
                },
                failed: (message) =>
                  void swarm()
                    .then((s) => s.swarmRole())
                    .then(
                      () => opts.notify(),
                      () => reachable(false, message),
                    ),
                driftChanged,
              },
            },
          );
          return host.controller;
        }
        host.controller = new Controller(
          { repo: opts.repo, branch: opts.branch, intervalMs: opts.intervalMs, name: spec.name, target: spec.name },
          {
            docker,
            git: ctx.git,
            files: tctx.files,
            state: tctx.state,
            clock: ctx.clock,
            env: ctx.io.env,
            log: hlog,
            validators: opts.validators,
            bake: ctx.bake,
            credentials: ctx.credentials,
            registry: ctx.registry,
            secrets,
            fetch: shared.fetch,
            events: {
              invalid,
              applying: (source, desired) => deployStatuses.applying(spec.name, source.revision, desired.settings.forge),
              reconciled: (result) => {
                // It observed the engine: the host answers.
                reachable(true, null);
                deployStatuses.reconciled(spec.name, result);
                if (result.desired) repoChat.configure(result.desired.settings.notify);
                host.chat.reconciled(result);
                if (result.apply) void refreshHistory();
                opts.notify();
              },
              // A pass that threw: down when the engine does not answer a ping either.
              failed: (message, revision) => {
                deployStatuses.failed(spec.name, revision, message);
                void docker.ping().then(
                  () => opts.notify(),
                  () => reachable(false, message),
                );
              },
              engine: (up, error) => (up ? opts.notify() : reachable(false, error)),
              driftChanged,
            },
            // The fetch is the runner's: counted once there.
            metrics: { ...m, gitFetchFailed: () => undefined },
          },
        );
        return host.controller;
      },
    },
  );

  const parts = (): HostPart[] =>
    runner.hosts().flatMap((l) => {
      const h = hosts.get(l.spec.name);
      return h ? [{ name: l.spec.name, docker: h.docker, up: h.up, error: h.error, status: l.controller.status(), history: h.history }] : [];
    });
  log.info({ repo: repoShown }, 'berth.yaml has `hosts:`: one controller per host, one fetch for all');
  runner.start();
  return {
    status: () => hostsDashboardStatus(opts.name, { ...runner.fetchStatus(), ready: runner.isReady(isDown) }, parts(), driftEvents.list()),
    isReady: () => runner.isReady(isDown),
    deployed: () => runner.hosts().map((l) => l.controller.deployed()).find((d) => d !== null) ?? null,
    previewHosts: () => runner.hosts().flatMap((l) => hosts.get(l.spec.name)?.ports ?? []),
    trigger: (reason) => runner.trigger(reason),
    stop: async () => {
      await runner.stop();
      await Promise.all([repoChat.close(), ...[...hosts.values()].map((h) => h.chat.close())]);
    },
  };
}
