import { peekHosts } from '../compose/hosts-peek.js';
import type { TargetSpec } from '../model/desired.js';
import type { ControllerActivity } from '../model/outcome.js';
import type { Clock } from '../ports/clock.js';
import { isRemoteRepo, redactUrl, type DesiredSource, type GitPort } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import type { Controller, ControllerStatus } from './controller.js';
import { SingleFlight } from './single-flight.js';
import { jitteredTimer } from './interval.js';

/**
 * `berth run` with berth.yaml `hosts:`: one fetch of the repository for all
 * hosts, then one Controller per host — its own engine connection and event
 * stream, lock, applied record, drift ledger, holds, backoff and history
 * (state dir `hosts/<name>/`) — so a host that is down fails only its own
 * passes and reconnects on its own, while every other host converges. The
 * runner owns what is shared: the interval, webhook and file-watch triggers
 * and the fetch; each Docker event triggers only its host's controller.
 *
 * The set of hosts follows berth.yaml: a host added to a commit gets a
 * controller, a host removed (or whose endpoint changed) has its controller
 * stopped — what runs on a removed host is left as it is, never pruned.
 */
export interface HostsRunnerOptions {
  repo: string;
  branch: string;
  intervalMs: number;
  /** `berth run --host NAME`: drive only this host of berth.yaml. */
  only?: string;
}

export interface SharedFetch {
  /** The runner's last fetch (rejects when it failed, as a fetch of its own would). */
  fetch: () => Promise<{ source: DesiredSource; clean: boolean }>;
}

export interface HostsRunnerDeps {
  git: GitPort;
  clock: Clock;
  env: Record<string, string | undefined>;
  log: Logger;
  /**
   * A controller for one host, wired to its engine (or swarm manager), state dir, chat and
   * metrics; it must use `shared.fetch`. The caller picks which one a host gets (`mode:`).
   */
  makeController: (spec: TargetSpec, shared: SharedFetch) => Promise<HostController>;
  /** Called after a controller for a host was started or stopped (the caller's per-host extras follow it). */
  hostsChanged?: (hosts: TargetSpec[]) => void;
  watch?: (dir: string, onChange: () => void) => () => Promise<void>;
  random?: () => number;
  gitFetchFailed?: () => void;
}

/** What the runner drives per host: an engine's Controller, or a swarm's (loop/swarm-controller.ts). */
export type HostController = Pick<Controller, 'start' | 'stop' | 'trigger' | 'isReady' | 'busy' | 'activity' | 'idle' | 'status' | 'deployed'>;

export interface HostLoop {
  spec: TargetSpec;
  controller: HostController;
}

export class HostsRunner {
  private readonly flight: SingleFlight;
  private readonly loops = new Map<string, HostLoop>();
  private latest: { source: DesiredSource; clean: boolean } | null = null;
  private latestError: Error | null = null;
  private lastFetched: ControllerStatus['lastFetched'] = null;
  private fetchError: ControllerStatus['fetchError'] = null;
  private timer: NodeJS.Timeout | null = null;
  private stopWatch: (() => Promise<void>) | null = null;
  private stopped = false;
  private readonly shared: SharedFetch = {
    fetch: () => (this.latest ? Promise.resolve(this.latest) : Promise.reject(this.latestError ?? new Error('the desired state was not fetched yet'))),
  };

  constructor(
    private readonly opts: HostsRunnerOptions,
    private readonly deps: HostsRunnerDeps,
  ) {
    this.flight = new SingleFlight((reasons) => this.runOnce(reasons));
  }

  start(): void {
    this.trigger('startup');
    this.scheduleInterval();
    if (!isRemoteRepo(this.opts.repo) && this.deps.watch) this.stopWatch = this.deps.watch(this.opts.repo, () => this.trigger('file-change'));
  }

  trigger(reason: string): void {
    if (!this.stopped) this.flight.trigger(reason);
  }

  /** The hosts driven now, in berth.yaml order. */
  hosts(): HostLoop[] {
    return [...this.loops.values()];
  }

  /** Every host had a good pass — except hosts that are down, which never hold the others' readiness (see `down`). */
  isReady(down: (host: string) => boolean): boolean {
    return this.loops.size > 0 && this.hosts().every((l) => l.controller.isReady() || down(l.spec.name));
  }

  /** Whether a fetch or any host's pass is running or queued. */
  get busy(): boolean {
    return this.activity !== 'idle';
  }

  /** The busiest of the fetch and every host's controller (see ControllerActivity). */
  get activity(): ControllerActivity {
    const each = this.hosts().map((l) => l.controller.activity());
    return this.flight.busy || each.includes('pass') ? 'pass' : each.includes('events') ? 'events' : 'idle';
  }

  /** The fetch: shared by every host. */
  fetchStatus(): Pick<ControllerStatus, 'repo' | 'branch' | 'lastFetched' | 'fetchError'> {
    return {
      repo: this.latest?.source.origin ?? redactUrl(this.opts.repo),
      branch: this.opts.branch,
      lastFetched: this.lastFetched,
      fetchError: this.fetchError,
    };
  }

  /** The fetch and every host's pass it triggered are done. */
  async idle(): Promise<void> {
    await this.flight.idle();
    await Promise.all(this.hosts().map((l) => l.controller.idle()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.flight.clear();
    await this.stopWatch?.();
    await this.flight.idle();
    await Promise.all(this.hosts().map((l) => l.controller.stop()));
  }

  private scheduleInterval(): void {
    if (this.stopped) return;
    this.timer = jitteredTimer(this.opts.intervalMs, this.deps.random, () => {
      this.trigger('interval');
      this.scheduleInterval();
    });
  }

  private async runOnce(reasons: string[]): Promise<void> {
    if (this.stopped) return;
    await this.fetch();
    if (this.latest) {
      // A berth.yaml that does not parse keeps the hosts there are (their controllers report it invalid).
      const all = peekHosts(this.latest.source.dir, this.deps.env);
      const specs = all && this.opts.only !== undefined ? all.filter((s) => s.name === this.opts.only) : all;
      if (all && all.length > 0 && specs?.length === 0) this.deps.log.warn({ revision: this.latest.source.revision, host: this.opts.only, hosts: all.map((h) => h.name) }, '--host: no such host in berth.yaml `hosts:`; no host is reconciled');
      if (specs) await this.follow(specs);
      if (all?.length === 0) this.deps.log.warn({ revision: this.latest.source.revision }, 'berth.yaml has no `hosts:` any more; no host is reconciled: restart `berth run` to drive the one engine of DOCKER_HOST');
    }
    for (const loop of this.hosts()) for (const r of reasons) loop.controller.trigger(r);
  }

  private async fetch(): Promise<void> {
    const { repo, branch } = this.opts;
    const at = new Date(this.deps.clock.now()).toISOString();
    try {
      if (isRemoteRepo(repo)) {
        this.latest = { source: await this.deps.git.fetch(repo, branch), clean: true };
      } else {
        const info = await this.deps.git.localRevision(repo);
        this.latest = {
          source: { dir: repo, revision: info?.revision ?? null, origin: repo, subject: info?.subject, author: info?.author, dirty: info?.dirty },
          clean: info !== null && !info.dirty,
        };
      }
      this.latestError = null;
      this.fetchError = null;
      this.lastFetched = { revision: this.latest.source.revision, at, ...(this.latest.source.subject !== undefined ? { subject: this.latest.source.subject } : {}) };
    } catch (e) {
      // The git adapter's messages name the URL with its credentials redacted. The hosts keep
      // enforcing their last good state: their passes see this error as their fetch's.
      const message = (e as Error).message;
      this.deps.gitFetchFailed?.();
      this.latest = null;
      this.latestError = e as Error;
      this.fetchError = { at, message, failures: (this.fetchError?.failures ?? 0) + 1 };
      this.deps.log.warn({ err: message }, 'fetching the desired state failed; every host keeps its last good state');
    }
  }

  /** Start a controller for each new host, stop those of hosts gone from berth.yaml or moved to another endpoint. */
  private async follow(specs: TargetSpec[]): Promise<void> {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    let changed = false;
    for (const [name, loop] of this.loops) {
      const next = wanted.get(name);
      if (next && sameEndpoint(next, loop.spec)) {
        loop.spec = next;
        continue;
      }
      this.loops.delete(name);
      changed = true;
      this.deps.log.info({ host: name, docker: redactUrl(loop.spec.docker) }, next ? 'host endpoint changed; reconnecting' : 'host removed from berth.yaml; no longer reconciled (what runs there is left as it is)');
      await loop.controller.stop();
    }
    const loops = new Map<string, HostLoop>();
    for (const spec of specs) {
      let loop = this.loops.get(spec.name);
      if (!loop) {
        loop = { spec, controller: await this.deps.makeController(spec, this.shared) };
        changed = true;
        this.deps.log.info({ host: spec.name, docker: redactUrl(spec.docker) }, 'host added');
        loop.controller.start();
      }
      loops.set(spec.name, loop);
    }
    // berth.yaml order, for status and the dashboard.
    this.loops.clear();
    for (const [name, loop] of loops) this.loops.set(name, loop);
    if (changed) this.deps.hostsChanged?.(specs);
  }
}

function sameEndpoint(a: TargetSpec, b: TargetSpec): boolean {
  return a.docker === b.docker && a.mode === b.mode && JSON.stringify(a.tls) === JSON.stringify(b.tls);
}
